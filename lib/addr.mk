# lib/addr.mk
