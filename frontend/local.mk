# frontend/local.mk
