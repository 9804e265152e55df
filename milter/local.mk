# milter/local.mk
