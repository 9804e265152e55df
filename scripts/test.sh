#!/bin/sh
# test.sh - install what is needed, build, and run the whole test suite (what CI runs).
# Usage: sh scripts/test.sh        (as root on Debian 12; a fresh clone is fine)
# Environment: POSTERN_SANITIZE=no skips the second, ASan+UBSan pass.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

sh scripts/install-deps.sh

jobs=$(nproc 2>/dev/null || echo 2)

build_and_check() {
	dir=$1
	shift
	rm -rf "$dir"
	mkdir -p "$dir"
	(cd "$dir" && "$top/configure" --enable-werror "$@" >configure.log 2>&1 ||
		{ tail -n 40 configure.log; exit 1; })
	make -C "$dir" -j"$jobs"
	# Tests pick free loopback ports, so they may run in parallel.
	if ! make -C "$dir" -j"$jobs" check; then
		for f in $(find "$dir" -name '*.log' -newer "$dir/configure.log" | sort); do
			if grep -qE '^:test-result: (FAIL|ERROR)' "${f%.log}.trs" 2>/dev/null; then
				echo "===== $f"
				tail -n 80 "$f"
			fi
		done
		exit 1
	fi
}

# Sum automake's "# PASS:" / "# FAIL:" lines of a build's test-suite.log.
count() {
	awk -v k="$2" '$1 == "#" && $2 == k":" { n += $3 } END { print n + 0 }' "$1/test-suite.log"
}

autoreconf -fi >/dev/null
build_and_check build
passed=$(count build PASS) failed=$(count build FAIL)
echo "== the C unit tests and fuzz replays again under valgrind (leaks are errors)"
make -C build -j"$jobs" check-valgrind || { tail -n 120 build/test-suite.log; exit 1; }
passed=$((passed + $(count build PASS))) failed=$((failed + $(count build FAIL)))
if [ "${POSTERN_SANITIZE:-yes}" != no ]; then
	echo "== everything again under AddressSanitizer + UndefinedBehaviorSanitizer"
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		build_and_check build-san --enable-sanitizers
	passed=$((passed + $(count build-san PASS))) failed=$((failed + $(count build-san FAIL)))
fi
echo "All test suites passed."
echo "tests: $passed passed, $failed failed"
