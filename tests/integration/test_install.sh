#!/bin/sh
# test_install.sh - make install (DESTDIR) gives a system that starts: the sample postern.conf
# (never written over an edited one), the accounts file, the spool, module and socket
# directories, the systemd units naming paths that exist, the README under share/doc,
# and the installed daemons reading the installed config.
set -u
: "${top_builddir:?}" "${top_srcdir:?}"
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
not_ok() { fail=$((fail + 1)); echo "not ok - $1"; }
check() { if eval "$2"; then ok "$1"; else not_ok "$1"; fi; }

var() { sed -n "s|^$1 = ||p" "$top_builddir/Makefile" | head -n 1; }
# The directories as make expands them (the Makefile's own variables, not guessed).
dirs=$(MAKEFLAGS= MFLAGS= MAKELEVEL= make -s -C "$top_builddir" --no-print-directory -f Makefile -f - \
    postern-dirs <<'MK'
postern-dirs:
	@echo "bindir=$(bindir) sbindir=$(sbindir) sysconfdir=$(sysconfdir) localstatedir=$(localstatedir) runstatedir=$(runstatedir) pkglibdir=$(pkglibdir) docdir=$(docdir) unitdir=$(systemdsystemunitdir) tmpfilesdir=$(tmpfilesdir)"
MK
)
eval "$dirs"
[ -n "$sbindir" ] && [ -n "$unitdir" ] && [ -n "$tmpfilesdir" ] || { echo "cannot read the install directories: $dirs"; exit 1; }
root=$tmp/root
install_it() {
	MAKEFLAGS= MFLAGS= MAKELEVEL= make -C "$top_builddir" install DESTDIR="$root" >"$tmp/install.log" 2>&1 ||
		{ cat "$tmp/install.log"; exit 1; }
}
install_it
etc=$root$sysconfdir/postern

# 1. The sample config and the accounts file.
check "sample postern.conf installed" "cmp -s '$etc/postern.conf' '$top_builddir/contrib/postern.conf'"
check "accounts file made, not readable by others" \
    "[ -f '$etc/accounts' ] && [ \"\$(stat -c %a '$etc/accounts')\" = 640 ]"
check "the sample names configure's paths" \
    "grep -qx 'smtpd_spool_dir = $localstatedir/spool/postern' '$etc/postern.conf' &&
     grep -qx 'accounts_file = $sysconfdir/postern/accounts' '$etc/postern.conf'"

# 2. A second install keeps what the admin edited.
printf 'smtpd_max_recipients = 7\n' >> "$etc/postern.conf"
# The documented step: an account line from the installed postern-passwd.
printf 'secret\n' | "$root$bindir/postern-passwd" alice example.com > "$etc/accounts" ||
	not_ok "installed postern-passwd writes an account line"
cp "$etc/postern.conf" "$tmp/edited"
install_it
check "edited postern.conf kept by a second make install" "cmp -s '$etc/postern.conf' '$tmp/edited'"
check "make install says it kept it" "grep -q 'keeping the existing' '$tmp/install.log'"
check "accounts kept" "grep -q '^alice:' '$etc/accounts'"

# 3. Directories.
check "spool directory, mode 0750" "[ \"\$(stat -c %a '$root$localstatedir/spool/postern')\" = 750 ]"
check "milter socket directory, mode 0750" "[ \"\$(stat -c %a '$root$runstatedir/postern')\" = 750 ]"
check "module directory (pkglibdir)" "[ -d '$root$pkglibdir' ]"
if [ "$(id -u)" = 0 ] && getent passwd postern >/dev/null; then
	check "spool owned by postern" "[ \"\$(stat -c %U '$root$localstatedir/spool/postern')\" = postern ]"
fi

# 4. README and units.
check "README under share/doc" "cmp -s '$root$docdir/README.md' '$top_srcdir/README.md'"
for u in postern-milter postern-smtpd postern-relay; do
	unit=$root$unitdir/$u.service
	check "$u.service installed" "[ -f '$unit' ]"
	exec=$(sed -n 's/^ExecStart=//p' "$unit")
	bin=${exec%% *}
	conf=${exec##* }
	check "$u.service ExecStart names the installed $bin" "[ '$bin' = '$sbindir/$u' ] && [ -x '$root$bin' ]"
	check "$u.service -c names the installed config" "[ -f '$root$conf' ] && [ '$conf' = '$sysconfdir/postern/postern.conf' ]"
	for p in $(sed -n 's/^ReadWritePaths=-\{0,1\}//p' "$unit"); do
		check "$u.service ReadWritePaths $p exists" "[ -d '$root$p' ]"
	done
	! grep -q '@[a-z]*dir@' "$unit" && ok "$u.service has no @dir@ left" || not_ok "$u.service has no @dir@ left"
done
# The socket units, installed (not enabled); the milter's names configure's socket path.
for u in postern-smtpd.socket postern-smtpd-tls.socket postern-milter.socket; do
	check "$u installed" "[ -f '$root$unitdir/$u' ]"
done
check "postern-milter.socket listens where the sample config's smtpd_milters points" \
    "grep -qx 'ListenStream=$runstatedir/postern/milter.sock' '$root$unitdir/postern-milter.socket'"
# The tmpfiles.d entry makes, at boot, the directories make install made: configure's paths.
tmpf=$root$tmpfilesdir/postern.conf
check "tmpfiles.d/postern.conf installed" "[ -f '$tmpf' ]"
check "tmpfiles.d entry: the spool, 0750, postern's" \
    "grep -qx 'd $localstatedir/spool/postern 0750 postern postern -' '$tmpf'"
check "tmpfiles.d entry: the socket directory, 0750, postern's" \
    "grep -qx 'd $runstatedir/postern 0750 postern postern -' '$tmpf'"

# 5. The installed daemons read the installed config as it is (-n reads every value;
# the milter's also opens the accounts file, so give it the tree's paths).
out=$("$root$sbindir/postern-smtpd" -n -c "$etc/postern.conf" 2>&1) &&
	ok "installed postern-smtpd -n reads the installed config" ||
	not_ok "installed postern-smtpd -n reads the installed config: $out"
sed "s|$sysconfdir|$root$sysconfdir|g" "$etc/postern.conf" > "$tmp/rooted.conf"
out=$("$root$sbindir/postern-milter" -n -c "$tmp/rooted.conf" 2>&1) &&
	ok "installed postern-milter -n reads it (accounts file included)" ||
	not_ok "installed postern-milter -n reads it: $out"
out=$("$root$sbindir/postern-smtpd" -n -c "$etc/postern.conf" | grep '^smtpd_milters = ')
check "postern-smtpd talks to the milter's socket" \
    "[ '$out' = 'smtpd_milters = unix:$runstatedir/postern/milter.sock' ]"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
