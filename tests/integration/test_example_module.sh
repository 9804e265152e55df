#!/bin/sh
# test_example_module.sh - the contrib example module, built against the INSTALLED header and
# postern-policy.pc (make install DESTDIR=...), then loaded by postern-check and postern-milter.
set -eu
: "${top_builddir:?}" "${top_srcdir:?}"
tmp=$(mktemp -d)
milter_pid=""
cleanup() {
	[ -n "$milter_pid" ] && kill "$milter_pid" 2>/dev/null && wait "$milter_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
not_ok() { fail=$((fail + 1)); echo "not ok - $1"; }

# 1. Install into a private root; only what `make install` puts there is used below.
MAKEFLAGS= MFLAGS= MAKELEVEL= make -C "$top_builddir" install DESTDIR="$tmp/root" >"$tmp/install.log" 2>&1 ||
	{ cat "$tmp/install.log"; exit 1; }
pc=$(find "$tmp/root" -name postern-policy.pc | head -n 1)
[ -n "$pc" ] && ok "postern-policy.pc installed" || not_ok "postern-policy.pc installed"
hdr=$(find "$tmp/root" -path '*/postern/policy.h' | head -n 1)
[ -n "$hdr" ] && ok "postern/policy.h installed" || not_ok "postern/policy.h installed"

# 2. Build the module out of tree exactly as the tutorial says, with pkg-config.
cp -r "$top_srcdir/contrib/example-module" "$tmp/mod"
export PKG_CONFIG_PATH="$(dirname "$pc")" PKG_CONFIG_SYSROOT_DIR="$tmp/root"
cflags=$(pkg-config --cflags postern-policy)
case "$cflags" in *"$tmp/root"*) ok "pkg-config points into the installed tree" ;;
	*) not_ok "pkg-config points into the installed tree ($cflags)" ;; esac
if MAKEFLAGS= MFLAGS= MAKELEVEL= make -C "$tmp/mod" CFLAGS="-O2 -Wall -Wextra -Werror" >"$tmp/build.log" 2>&1; then
	ok "module builds warning-free against the installed API"
else
	cat "$tmp/build.log"; not_ok "module builds"; exit 1
fi

# 3. postern-check loads it: a listed word is refused with the module's reply, a clean message passes.
cat >"$tmp/postern.conf" <<CONF
policy_modules = $tmp/mod/subjectfilter.so
subjectfilter_words = lottery, wire transfer
subjectfilter_reply = 554 5.7.1 Subject refused by local policy
milter_user =
CONF
mkmsg() {
	printf 'From: Alice <alice@example.com>\r\nTo: bob@example.net\r\nSubject: %s\r\nMessage-ID: <1@example.com>\r\nDate: Sat, 28 Nov 2026 10:00:00 +0000\r\n\r\nHello Bob.\r\n' "$1" >"$2"
}
mkmsg "You won the LOTTERY" "$tmp/spam.eml"
mkmsg "Minutes of the meeting" "$tmp/ham.eml"
check="$top_builddir/tools/postern-check"
out=$("$check" -c "$tmp/postern.conf" -f alice@example.com "$tmp/spam.eml" || true)
[ "$out" = "$tmp/spam.eml: 554 5.7.1 Subject refused by local policy" ] &&
	ok "postern-check: module rejects" || not_ok "postern-check: module rejects (got: $out)"
out=$("$check" -c "$tmp/postern.conf" -f alice@example.com "$tmp/ham.eml" || true)
[ "$out" = "$tmp/ham.eml: accept" ] && ok "postern-check: module accepts a clean message" ||
	not_ok "postern-check: module accepts a clean message (got: $out)"

# 4. A key the module does not declare is an error naming file and line.
printf 'subjectfilter_colour = red\n' >>"$tmp/postern.conf"
line=$(wc -l <"$tmp/postern.conf")
if out=$("$check" -c "$tmp/postern.conf" -f alice@example.com "$tmp/ham.eml" 2>&1); then
	not_ok "unknown module key refused"
else
	case "$out" in *"$tmp/postern.conf:$line: unknown key \"subjectfilter_colour\""*) ok "unknown module key refused with file:line" ;;
		*) not_ok "unknown module key refused with file:line (got: $out)" ;; esac
fi
sed -i '$d' "$tmp/postern.conf"

# 5. postern-milter loads it too and serves (its -n loads modules and prints the config).
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf 'milter_listen = inet:127.0.0.1:%s\n' "$port" >>"$tmp/postern.conf"
"$top_builddir/milter/postern-milter" -c "$tmp/postern.conf" 2>"$tmp/milter.log" &
milter_pid=$!
up=no
for _ in $(seq 1 50); do
	if python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$port),1)" 2>/dev/null; then up=yes; break; fi
	kill -0 "$milter_pid" 2>/dev/null || break
	sleep 0.1
done
[ "$up" = yes ] && ok "postern-milter starts with the module" ||
	{ cat "$tmp/milter.log"; not_ok "postern-milter starts with the module"; }
grep -q "policy module subjectfilter loaded from $tmp/mod/subjectfilter.so" "$tmp/milter.log" && ok "postern-milter logs the loaded module" ||
	{ cat "$tmp/milter.log"; not_ok "postern-milter logs the loaded module"; }

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
