#!/bin/sh
# test_options.sh - -V/--version and -h/--help on every program, and the milter's log tag
# from its first line on (issue 19: module loading logged as "postern[pid]").
set -u
: "${top_builddir:=$(cd "$(dirname "$0")/../.." && pwd)}"
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT
fails=0
pass=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
fail() { fails=$((fails + 1)); echo "FAIL: $1"; }

version=$(sed -n 's/^#define PACKAGE_VERSION "\(.*\)"$/\1/p' "$top_builddir/autoconf.h")
[ -n "$version" ] || fail "no PACKAGE_VERSION in autoconf.h"
for p in frontend/postern-smtpd milter/postern-milter relay/postern-relay tools/postern-queue \
    tools/postern-check tools/postern-passwd; do
	bin=$top_builddir/$p
	name=${p##*/}
	for opt in -V --version; do
		out=$("$bin" "$opt" 2>&1 < /dev/null)
		rc=$?
		[ "$rc" = 0 ] && [ "$out" = "$name (Postern) $version" ] &&
		    ok "$name $opt" || fail "$name $opt: exit $rc, \"$out\""
	done
	for opt in -h --help; do
		out=$("$bin" "$opt" 2>/dev/null < /dev/null)
		rc=$?
		case $out in "usage: $name "*) first=1 ;; *) first=0 ;; esac
		[ "$rc" = 0 ] && [ "$first" = 1 ] && printf '%s\n' "$out" | grep -q -- '-V' &&
		    ok "$name $opt" || fail "$name $opt: exit $rc, \"$out\""
	done
	# A mistake still goes to stderr with exit 2.
	out=$("$bin" --no-such-option 2>&1 >/dev/null < /dev/null)
	rc=$?
	[ "$rc" = 2 ] && case $out in *"usage: $name"*) true ;; *) false ;; esac &&
	    ok "$name bad option" || fail "$name bad option: exit $rc, \"$out\""
done

# Every log line of the milter carries its name, the module loader's at startup too.
mod=$top_builddir/tests/unit/modules/verdict.so
if [ -f "$mod" ]; then
	printf 'policy_modules = %s\n' "$mod" > "$tmp/postern.conf"
	"$top_builddir/milter/postern-milter" -n -c "$tmp/postern.conf" > /dev/null 2> "$tmp/err"
	# stderr lines start with an RFC 3339 time unless JOURNAL_STREAM is set: drop it.
	sed -i 's/^[0-9-]*T[0-9:.]*Z //' "$tmp/err"
	first=$(head -n 1 "$tmp/err")
	case $first in
	"postern-milter["*"]: policy module verdict loaded from $mod") ok "milter's first log line tagged postern-milter" ;;
	*) fail "milter's first log line: \"$first\"" ;;
	esac
	if grep -v '^postern-milter\[' "$tmp/err" | grep -q .; then
		fail "milter lines without its tag: $(cat "$tmp/err")"
	fi
else
	fail "$mod not built"
fi
echo "$pass passed, $fails failed"
[ "$fails" -eq 0 ]
