# lib/mime.mk
