#!/bin/sh
# test_check_corpus.sh - postern-check over the golden corpus (tests/corpus/expected.txt), plus its exit codes.
#
# Each row file|sender|account|expected runs postern-check -f sender [-a account]
# with accounts_file = tests/corpus/accounts and checks the printed line
# ("FILE: accept" or "FILE: <code> <xcode> <text>") and the exit status.
set -u
: "${top_builddir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_srcdir:=$top_builddir}"
check=$top_builddir/tools/postern-check
corpus=$top_srcdir/tests/corpus
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT
printf 'accounts_file = %s\n' "$corpus/accounts" > "$tmp/postern.conf"
fails=0
rows=0

fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}

while IFS='|' read -r file sender account want; do
	case $file in '' | '#'*) continue ;; esac
	rows=$((rows + 1))
	set -- -c "$tmp/postern.conf" -f "$sender"
	[ -n "$account" ] && set -- "$@" -a "$account"
	got=$("$check" "$@" "$corpus/$file")
	rc=$?
	[ "$got" = "$corpus/$file: $want" ] || fail "$file: got \"$got\", want \"$want\""
	if [ "$want" = accept ]; then wantrc=0; else wantrc=1; fi
	[ "$rc" = "$wantrc" ] || fail "$file: exit $rc, want $wantrc"
done < "$corpus/expected.txt"
[ "$rows" -ge 16 ] || fail "only $rows corpus rows"

# Without -f the sender is the From address: the clean message passes alone.
got=$("$check" -c "$tmp/postern.conf" "$corpus/00-clean.eml") || fail "default sender: exit $?"
[ "$got" = "$corpus/00-clean.eml: accept" ] || fail "default sender: $got"
# Several files: one line each, exit 1 when one is refused.
n=$("$check" -c "$tmp/postern.conf" "$corpus/00-clean.eml" "$corpus/08-no-subject.eml" | wc -l)
[ "$n" -eq 2 ] || fail "two files gave $n lines"
"$check" -c "$tmp/postern.conf" "$corpus/00-clean.eml" "$corpus/08-no-subject.eml" > /dev/null
[ $? -eq 1 ] || fail "a refused file must exit 1"
# CRLF files read the same.
sed 's/$/\r/' "$corpus/08-no-subject.eml" > "$tmp/crlf.eml"
got=$("$check" -c "$tmp/postern.conf" -f alice@example.com "$tmp/crlf.eml")
[ "$got" = "$tmp/crlf.eml: 554 5.6.0 Subject not present" ] || fail "CRLF: $got"
# Usage, config and file errors exit 2.
"$check" -c "$tmp/postern.conf" > /dev/null 2>&1
[ $? -eq 2 ] || fail "no file must exit 2"
"$check" -c "$tmp/postern.conf" "$tmp/missing.eml" > /dev/null 2>&1
[ $? -eq 2 ] || fail "missing file must exit 2"
printf 'no_such_key = 1\n' > "$tmp/bad.conf"
msg=$("$check" -c "$tmp/bad.conf" "$corpus/00-clean.eml" 2>&1)
[ $? -eq 2 ] || fail "bad config must exit 2"
case $msg in *"bad.conf:1: unknown key"*) ;; *) fail "bad config message: $msg" ;; esac
# -n prints the effective config.
"$check" -n -c "$tmp/postern.conf" | grep -qx "accounts_file = $corpus/accounts" || fail "-n output"

[ "$fails" -eq 0 ] && echo "PASS: $rows corpus rows" && exit 0
exit 1
