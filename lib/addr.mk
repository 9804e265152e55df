# lib/addr.mk - the address parser (RFC 5322 lists, RFC 5321 paths, RFC 2047 words) and its tests.
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
