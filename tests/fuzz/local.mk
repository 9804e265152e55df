# tests/fuzz/local.mk - libFuzzer targets. `make fuzz` builds them with clang;
# `make fuzz-run FUZZ_SECONDS=600` runs each. Their seed corpora also replay
# under gcc in `make check` (tests/fuzz/regress_*), see each module's .mk.
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
