# lib/local.mk - libpostern.a: shared internal code of the programs.
noinst_LIBRARIES += lib/libpostern.a
lib_libpostern_a_SOURCES = \
	lib/xalloc.c lib/xalloc.h \
	lib/log.c lib/log.h \
	lib/reply.c lib/reply.h \
	lib/config.c lib/config.h \
	lib/accounts.c lib/accounts.h \
	lib/fsperm.c lib/fsperm.h \
	lib/crypt_cost.c lib/crypt_cost.h \
	lib/spool_read.c lib/spool_read.h \
	lib/endpoint.c lib/endpoint.h \
	lib/usage.c lib/usage.h \
	lib/sdnotify.c lib/sdnotify.h \
	lib/metrics.c lib/metrics.h lib/tls_version.h \
	lib/strbuf.c lib/strbuf.h \
	lib/clock_ms.c lib/clock_ms.h \
	lib/metrics_http.c lib/metrics_http.h
lib_libpostern_a_CFLAGS = $(AM_CFLAGS) $(LIBIDN2_CFLAGS) $(LIBCRYPT_CFLAGS) $(LIBSYSTEMD_CFLAGS) \
	$(LIBEVENT_CFLAGS)
# Every program links the shared library and what it needs.
POSTERN_LIBS = lib/libpostern.a $(LIBIDN2_LIBS) $(LIBCRYPT_LIBS) $(LIBSYSTEMD_LIBS) $(PTHREAD_LIBS)

# --- the streaming MIME scanner and its tests.
lib_libpostern_a_SOURCES += lib/mime.c lib/mime.h lib/mime_decode.c lib/mime_decode.h
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_mime
TESTS += tests/unit/test_mime
tests_unit_test_mime_SOURCES = tests/unit/test_mime.c
tests_unit_test_mime_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_mime_LDADD = $(POSTERN_LIBS) $(CMOCKA_LIBS)
endif
check_PROGRAMS += tests/fuzz/regress_mime
TESTS += tests/fuzz/regress_mime
tests_fuzz_regress_mime_SOURCES = tests/fuzz/fuzz_mime.c tests/fuzz/standalone.c
tests_fuzz_regress_mime_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_CORPUS_DIR='"$(srcdir)/tests/fuzz/corpus/mime"'
tests_fuzz_regress_mime_LDADD = $(POSTERN_LIBS)

# --- the address parser (RFC 5322 lists, RFC 5321 paths, RFC 2047 words) and its tests.
lib_libpostern_a_SOURCES += lib/addr.c lib/addr.h lib/addr_int.h lib/addr_path.c lib/addr_domain.c lib/rfc2047.c lib/rfc2047.h lib/ascii.h
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_addr
TESTS += tests/unit/test_addr
tests_unit_test_addr_SOURCES = tests/unit/test_addr.c
tests_unit_test_addr_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_addr_LDADD = $(POSTERN_LIBS) $(CMOCKA_LIBS)
endif
check_PROGRAMS += tests/fuzz/regress_addr
TESTS += tests/fuzz/regress_addr
tests_fuzz_regress_addr_SOURCES = tests/fuzz/fuzz_addr.c tests/fuzz/standalone.c
tests_fuzz_regress_addr_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_CORPUS_DIR='"$(srcdir)/tests/fuzz/corpus/addr"'
tests_fuzz_regress_addr_LDADD = $(POSTERN_LIBS)

# --- the milter protocol codec (both directions) and its tests.
lib_libpostern_a_SOURCES += lib/milter_proto.c lib/milter_proto.h
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_milter_proto
TESTS += tests/unit/test_milter_proto
tests_unit_test_milter_proto_SOURCES = tests/unit/test_milter_proto.c
tests_unit_test_milter_proto_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_milter_proto_LDADD = $(POSTERN_LIBS) $(CMOCKA_LIBS)
endif
# The fuzz target's seeds replay under gcc in make check.
check_PROGRAMS += tests/fuzz/regress_milter_proto
TESTS += tests/fuzz/regress_milter_proto
tests_fuzz_regress_milter_proto_SOURCES = tests/fuzz/fuzz_milter_proto.c tests/fuzz/standalone.c
tests_fuzz_regress_milter_proto_CPPFLAGS = $(AM_CPPFLAGS) \
	-DFUZZ_CORPUS_DIR='"$(srcdir)/tests/fuzz/corpus/milter_proto"'
tests_fuzz_regress_milter_proto_LDADD = $(POSTERN_LIBS)

# --- the metrics registry's text exposition.
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_metrics
TESTS += tests/unit/test_metrics
tests_unit_test_metrics_SOURCES = tests/unit/test_metrics.c
tests_unit_test_metrics_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_metrics_LDADD = $(POSTERN_LIBS) $(CMOCKA_LIBS)
endif
