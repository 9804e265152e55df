#!/bin/sh
# test_scripts.sh - the Quick start and the test script keep out of each other's way
# (issues 19.5, 19.6, 22.4): test.sh never removes or builds in the Quick start's build/
# nor touches its demo; the demo's state lives outside the clone (the service user must
# reach it from a clone in root's 0700 home); quickstart.sh installs no test tool.
set -u
top=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
bad() { fail=$((fail + 1)); echo "not ok - $1"; }

# test.sh builds only in trees of its own.
dirs=$(sed -n 's/^[[:space:]]*build_and_check \([^ ]*\).*/\1/p' "$top/scripts/test.sh" | sort -u | tr '\n' ' ')
case " $dirs " in
*" build "*|"  ") bad "test.sh builds in: '$dirs' (must not be build/)" ;;
*) ok "test.sh builds in $dirs" ;;
esac
if grep -v '^[[:space:]]*#' "$top/scripts/test.sh" |
    grep -Eq 'rm -rf "?\$?(top/)?build"?([[:space:]]|$)|postern-demo|POSTERN_DEMO_DIR'; then
	bad "test.sh removes build/ or touches the demo"
else
	ok "test.sh leaves build/ and the demo alone"
fi

# The demo's state: outside the clone by default.
demo=$(sed -n 's/^demo=\${POSTERN_DEMO_DIR:-\(.*\)}$/\1/p' "$top/scripts/quickstart.sh")
case $demo in
/*) case $demo in
	"$top"*|*'$top'*|*build*) bad "demo state under the clone: $demo" ;;
	*) ok "demo state in $demo, outside the clone" ;;
	esac ;;
*) bad "no absolute default demo directory in quickstart.sh: '$demo'" ;;
esac

# The Quick start installs the run set only, and that set holds no test tool.
if grep -q 'install-deps.sh run$' "$top/scripts/quickstart.sh"; then
	ok "quickstart.sh installs the run set"
else
	bad "quickstart.sh does not call install-deps.sh run"
fi
run=$(sh "$top/scripts/install-deps.sh" run --print)
test_set=$(sh "$top/scripts/install-deps.sh" test --print)
for p in valgrind clang libclang-rt-14-dev libcmocka-dev postfix rspamd opendkim sasl2-bin; do
	if printf '%s\n' "$run" | grep -qx "$p"; then
		bad "run set installs the test tool $p"
	elif ! printf '%s\n' "$test_set" | grep -qx "$p"; then
		bad "test set lacks $p"
	else
		ok "$p only in the test set"
	fi
done
for p in $run; do
	printf '%s\n' "$test_set" | grep -qx "$p" || bad "test set lacks run package $p"
done

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
