#!/bin/sh
# test.sh - install what is needed, build, and run the whole test suite (what CI runs).
# Usage: sh scripts/test.sh        (as root on Debian 12; a fresh clone is fine)
# Environment: POSTERN_SANITIZE=no skips the second, ASan+UBSan pass.
# It builds in build-test/ and build-san/ only: the Quick start's build/ and its demo
# (scripts/quickstart.sh, /var/lib/postern-demo) are never touched.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

sh scripts/install-deps.sh test

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
build_and_check build-test
passed=$(count build-test PASS) failed=$(count build-test FAIL)
echo "== the C unit tests and fuzz replays again under valgrind (leaks are errors)"
make -C build-test -j"$jobs" check-valgrind || { tail -n 120 build-test/test-suite.log; exit 1; }
passed=$((passed + $(count build-test PASS))) failed=$((failed + $(count build-test FAIL)))
if [ "${POSTERN_SANITIZE:-yes}" != no ]; then
	echo "== everything again under AddressSanitizer + UndefinedBehaviorSanitizer"
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		build_and_check build-san --enable-sanitizers
	passed=$((passed + $(count build-san PASS))) failed=$((failed + $(count build-san FAIL)))
fi
echo "All test suites passed."
echo "tests: $passed passed, $failed failed"
