# tools/local.mk - operator tools.
bin_PROGRAMS += tools/postern-passwd
tools_postern_passwd_SOURCES = tools/postern-passwd.c
tools_postern_passwd_LDADD = $(LIBCRYPT_LIBS)
