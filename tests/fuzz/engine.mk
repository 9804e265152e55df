# tests/fuzz/engine.mk - fuzz_engine (the whole policy engine over one .eml) replayed over its seed corpus in make check.
# The libFuzzer build is `make fuzz` (tests/fuzz/targets.list); this is the gcc regression of the same target.
check_PROGRAMS += tests/fuzz/regress_engine
TESTS += tests/fuzz/regress_engine
tests_fuzz_regress_engine_SOURCES = tests/fuzz/fuzz_engine.c tests/fuzz/standalone.c
tests_fuzz_regress_engine_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_CORPUS_DIR='"$(srcdir)/tests/fuzz/corpus/engine"'
# -rdynamic like every program running the engine (policies/local.mk): modules resolve postern_* from it.
tests_fuzz_regress_engine_LDFLAGS = $(AM_LDFLAGS) -rdynamic
tests_fuzz_regress_engine_LDADD = $(POLICY_LIBS)
