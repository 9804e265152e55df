#!/bin/sh
# quickstart.sh - install what running needs, build, and run postern-smtpd, postern-milter
# and postern-relay on a demo configuration, with a demo next hop that keeps what it gets.
# Usage: sh scripts/quickstart.sh     (as root on Debian 12; Ctrl-C stops everything)
#
# The demo's state (configuration, certificate, accounts, spool, delivered mail) lives in
# $POSTERN_DEMO_DIR (default /var/lib/postern-demo), outside the clone: the service user
# reaches it wherever the clone is (root's home is mode 0700), and scripts/test.sh, which
# builds in trees of its own, never touches it. The build goes to build/ in the clone.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
demo=${POSTERN_DEMO_DIR:-/var/lib/postern-demo}

sh scripts/install-deps.sh run
getent passwd postern >/dev/null || adduser --system --group --no-create-home --home /nonexistent postern >/dev/null

autoreconf -fi >/dev/null
mkdir -p build
(cd build && "$top/configure" >configure.log 2>&1 || { tail -n 40 configure.log; exit 1; })
make -C build -j"$(nproc 2>/dev/null || echo 2)" >/dev/null

install -d -m 0755 "$demo" "$demo/delivered"
install -d -o postern -g postern -m 0750 "$demo/spool"
# The milter's socket: a root-owned directory only the postern group may enter
# (loopback TCP would be open to every local user: postern.conf(5), milter_listen).
install -d -o root -g postern -m 0750 /run/postern
host=$(hostname -f 2>/dev/null || hostname)
if [ ! -f "$demo/cert.pem" ]; then
	certtool --generate-privkey --key-type=ecdsa --outfile "$demo/key.pem" 2>/dev/null
	printf 'cn = "%s"\ndns_name = "%s"\ndns_name = "localhost"\nexpiration_days = 365\ntls_www_server\nsigning_key\n' \
		"$host" "$host" >"$demo/cert.cfg"
	certtool --generate-self-signed --load-privkey "$demo/key.pem" --template "$demo/cert.cfg" \
		--outfile "$demo/cert.pem" 2>/dev/null
fi
password=$(head -c 12 /dev/urandom | base64 | tr -d '/+=')
echo "$password" | build/tools/postern-passwd demo example.com >"$demo/accounts"
chgrp postern "$demo/key.pem" "$demo/accounts"
chmod 640 "$demo/key.pem" "$demo/accounts"

cat >"$demo/postern.conf" <<CONF
# Demo configuration written by scripts/quickstart.sh (every key: postern.conf(5))
smtpd_listen = 127.0.0.1:2525, [::1]:2525
smtpd_tls_listen = 127.0.0.1:4465
smtpd_hostname = $host
smtpd_tls_cert_file = $demo/cert.pem
smtpd_tls_key_file = $demo/key.pem
smtpd_user = postern
smtpd_spool_dir = $demo/spool
smtpd_milters = unix:/run/postern/milter.sock
# postern-milter supports connection reuse; other milters may not (postern.conf(5), milter_reuse)
milter_reuse = yes
milter_listen = unix:/run/postern/milter.sock
milter_user = postern
accounts_file = $demo/accounts
# postern-relay hands accepted mail on: here to scripts/demo-sink.py, which keeps
# each message it receives in $demo/delivered/ (in real life: your Postfix or LMTP)
relay_host = [127.0.0.1]:2526
relay_user = postern
CONF

pids=""
trap 'kill $pids 2>/dev/null; wait 2>/dev/null' EXIT INT TERM
python3 scripts/demo-sink.py 127.0.0.1 2526 "$demo/delivered" &
pids="$pids $!"
build/milter/postern-milter -c "$demo/postern.conf" &
pids="$pids $!"
build/relay/postern-relay -c "$demo/postern.conf" &
pids="$pids $!"

cat <<MSG

Postern is running (Ctrl-C stops it). Configuration: $demo/postern.conf
  SMTP with STARTTLS: 127.0.0.1:2525 and [::1]:2525    implicit TLS: 127.0.0.1:4465
  Demo account:       user "demo", password "$password", may send as @example.com
  Accepted mail:      $demo/spool/new/, handed on at once by postern-relay to
  the demo next hop:  127.0.0.1:2526, which keeps what it gets in $demo/delivered/
Try it:
  swaks --server 127.0.0.1:2525 --tls --auth PLAIN --auth-user demo \\
        --auth-password '$password' --from demo@example.com --to someone@example.net \\
        --header 'Subject: hello' --body 'Hello from Postern'
Then: ls $demo/delivered/    and    build/tools/postern-queue -c $demo/postern.conf status ID

MSG
build/frontend/postern-smtpd -c "$demo/postern.conf"
