# lib/milter_proto.mk - the milter protocol codec (both directions) and its tests.
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
