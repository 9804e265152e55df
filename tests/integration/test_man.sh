#!/bin/sh
# test_man.sh - the manual pages format without a single groff warning, and
# cannot drift from the code: every postern_* function of policy.h is in
# postern-policy.3, and every page in doc/ is installed by doc/local.mk.
# (postern.conf.5 against the config parser's keys: tests/unit/test_config_doc.c.)
#
# Needs man-db or groff (Debian: man-db, groff-base); skips (77) without both.
set -u
src=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
pass=0
fail=0

ok() { pass=$((pass + 1)); echo "ok - $1"; }
not_ok() { fail=$((fail + 1)); echo "not ok - $1"; [ -n "${2:-}" ] && printf '%s\n' "$2" | sed 's/^/#   /'; }

have() { command -v "$1" >/dev/null 2>&1; }

if ! have groff && ! have man; then
	echo "SKIP: neither man nor groff installed (Debian: man-db, groff-base)"
	exit 77
fi

pages=$(ls "$src"/doc/*.[1-8] 2>/dev/null)
if [ -z "$pages" ]; then
	not_ok "manual pages in $src/doc"
	echo "$pass passed, $fail failed"
	exit 1
fi

# Plain text of a page: no bold/underline, no hyphenation surprises (the pages set .nh).
render() { groff -man -Tutf8 -P-cbou "$1" 2>/dev/null || MANWIDTH=80 man -l -E UTF-8 "$1" 2>/dev/null | col -b; }

# 1. Each page formats without any warning, at a fixed width (line filling depends on it).
for p in $pages; do
	name=$(basename "$p")
	if have man; then
		out=$(MANWIDTH=80 LC_ALL=C.UTF-8 man --warnings -l -E UTF-8 -Tutf8 "$p" 2>&1 >/dev/null)
		if [ -z "$out" ]; then ok "man --warnings $name"; else not_ok "man --warnings $name" "$out"; fi
	fi
	if have groff; then
		out=$(groff -man -ww -z "$p" 2>&1)
		if [ -z "$out" ]; then ok "groff -ww $name"; else not_ok "groff -ww $name" "$out"; fi
	fi
done

# 2. Every postern_* function declared in policy.h is documented.
api_page="$src/doc/postern-policy.3"
funcs=$(grep -o 'postern_[a-z_]*(' "$src/include/postern/policy.h" | tr -d '(' | sort -u)
if [ -z "$funcs" ]; then
	not_ok "functions found in include/postern/policy.h"
elif [ ! -f "$api_page" ]; then
	not_ok "postern-policy.3 exists"
else
	text=$(render "$api_page")
	missing=""
	n=0
	for f in $funcs; do
		n=$((n + 1))
		printf '%s\n' "$text" | grep -qw -- "$f" || missing="$missing $f"
	done
	if [ -z "$missing" ]; then ok "postern-policy.3 names all $n postern_* functions of policy.h"
	else not_ok "postern-policy.3 names every postern_* function of policy.h" "missing:$missing"; fi
fi

# 3. Every page is installed (dist_man_MANS in doc/local.mk).
for p in $pages; do
	name=$(basename "$p")
	if grep -q "doc/$name" "$src/doc/local.mk" 2>/dev/null; then ok "doc/local.mk installs $name"
	else not_ok "doc/local.mk installs $name"; fi
done

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
