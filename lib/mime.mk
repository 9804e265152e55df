# lib/mime.mk - the streaming MIME scanner and its tests.
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
