#!/bin/sh
# test_fuzz_build.sh - every libFuzzer target of tests/fuzz/targets.list still
# builds with clang (its source lists are kept by hand and drift when a module
# is split) and replays its seed corpus without a finding. The long runs are
# `make fuzz-run`; this only keeps them runnable.
#
# Needs clang with libFuzzer (Debian: clang, libclang-rt-14-dev); skips (77) without.
set -u
src=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${top_builddir:-$src}
CLANG=${CLANG:-clang}

if ! command -v "$CLANG" >/dev/null 2>&1; then
	echo "SKIP: $CLANG not installed"
	exit 77
fi
# Any sanitizer report is a finding, as in scripts/test.sh's sanitizer pass.
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
ASAN_OPTIONS=abort_on_error=1
export UBSAN_OPTIONS ASAN_OPTIONS
out=$(mktemp -d "${TMPDIR:-/tmp}/postern-fuzzbuild.XXXXXX") || exit 1
trap 'rm -rf "$out"' EXIT INT TERM
# build.sh reads autoconf.h from two levels above its output directory.
mkdir -p "$out/a/fuzz"
cp "$build/autoconf.h" "$out/" 2>/dev/null || true

fail=0
if ! sh "$src/tests/fuzz/build.sh" build "$src" "$out/a/fuzz" > "$out/build.log" 2>&1; then
	echo "not ok - build: clang could not build every target"
	sed 's/^/#   /' "$out/build.log" | tail -n 20
	exit 1
fi
grep -v '^#' "$src/tests/fuzz/targets.list" | while IFS='|' read -r name _rest; do
	name=$(echo "$name" | tr -d ' ')
	[ -n "$name" ] || continue
	seeds="$src/tests/fuzz/corpus/${name#fuzz_}"
	if [ ! -x "$out/a/fuzz/$name" ]; then
		echo "not ok - $name not built"
		exit 1
	fi
	if "$out/a/fuzz/$name" -runs=0 -artifact_prefix="$out/" "$seeds" > "$out/$name.log" 2>&1; then
		echo "ok - $name builds and replays $(ls "$seeds" | wc -l) seeds"
	else
		echo "not ok - $name on its seeds"
		tail -n 20 "$out/$name.log" | sed 's/^/#   /'
		exit 1
	fi
done || fail=1
exit $fail
