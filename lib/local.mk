# lib/local.mk - libpostern.a: shared internal code of both programs.
noinst_LIBRARIES += lib/libpostern.a
lib_libpostern_a_SOURCES = \
	lib/xalloc.c lib/xalloc.h \
	lib/log.c lib/log.h \
	lib/reply.c lib/reply.h \
	lib/config.c lib/config.h \
	lib/accounts.c lib/accounts.h \
	lib/spool_read.c lib/spool_read.h \
	lib/endpoint.c lib/endpoint.h
lib_libpostern_a_CFLAGS = $(AM_CFLAGS) $(LIBIDN2_CFLAGS) $(LIBCRYPT_CFLAGS)
# Every program links the shared library and what it needs.
POSTERN_LIBS = lib/libpostern.a $(LIBIDN2_LIBS) $(LIBCRYPT_LIBS) $(PTHREAD_LIBS)
