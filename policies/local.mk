# policies/local.mk
