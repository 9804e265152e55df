# tests/fuzz/local.mk - libFuzzer targets. `make fuzz` builds them with clang;
# `make fuzz-run FUZZ_SECONDS=600` runs each. Their seed corpora also replay
# under gcc in `make check` (tests/fuzz/regress_*), see each folder's local.mk.
EXTRA_DIST += tests/fuzz/targets.list tests/fuzz/build.sh tests/fuzz/corpus

# make check: every target still builds with clang and replays its seeds.
TESTS += tests/integration/test_fuzz_build.sh
dist_check_SCRIPTS += tests/integration/test_fuzz_build.sh

fuzz:
	$(SHELL) $(srcdir)/tests/fuzz/build.sh build '$(srcdir)' '$(abs_builddir)/tests/fuzz'

FUZZ_SECONDS = 60
fuzz-run: fuzz
	$(SHELL) $(srcdir)/tests/fuzz/build.sh run '$(srcdir)' '$(abs_builddir)/tests/fuzz' $(FUZZ_SECONDS)

.PHONY: fuzz fuzz-run

# --- fuzz_engine (the whole policy engine over one .eml) replayed over its seed corpus in make check.
# The libFuzzer build is `make fuzz` (tests/fuzz/targets.list); this is the gcc regression of the same target.
check_PROGRAMS += tests/fuzz/regress_engine
TESTS += tests/fuzz/regress_engine
tests_fuzz_regress_engine_SOURCES = tests/fuzz/fuzz_engine.c tests/fuzz/standalone.c
tests_fuzz_regress_engine_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_CORPUS_DIR='"$(srcdir)/tests/fuzz/corpus/engine"'
# -rdynamic like every program running the engine (policies/local.mk): modules resolve postern_* from it.
tests_fuzz_regress_engine_LDFLAGS = $(AM_LDFLAGS) -rdynamic
tests_fuzz_regress_engine_LDADD = $(POLICY_LIBS)
