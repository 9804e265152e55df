#!/bin/sh
# quickstart.sh - install, build, and run postern-smtpd + postern-milter on a demo config.
# Usage: sh scripts/quickstart.sh     (as root on Debian 12; Ctrl-C stops both daemons)
# Generates a self-signed certificate and a demo account, prints how to send a message.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

sh scripts/install-deps.sh
getent passwd postern >/dev/null || adduser --system --group --no-create-home --home /nonexistent postern >/dev/null

autoreconf -fi >/dev/null
mkdir -p build
(cd build && "$top/configure" >configure.log 2>&1 || { tail -n 40 configure.log; exit 1; })
make -C build -j"$(nproc 2>/dev/null || echo 2)" >/dev/null

demo=$top/build/demo
mkdir -p "$demo/spool"
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

cat >"$demo/postern.conf" <<CONF
# Demo configuration written by scripts/quickstart.sh
smtpd_listen = 127.0.0.1:2525, [::1]:2525
smtpd_tls_listen = 127.0.0.1:4465
smtpd_hostname = $host
smtpd_tls_cert_file = $demo/cert.pem
smtpd_tls_key_file = $demo/key.pem
smtpd_user = postern
smtpd_spool_dir = $demo/spool
# A unix socket in a root-owned directory (0750, group postern): loopback TCP
# would be open to every local user (postern-smtpd(8), MILTERS).
smtpd_milters = unix:/run/postern/milter.sock
# postern-milter supports connection reuse; other milters may not (postern.conf(5), milter_reuse)
milter_reuse = yes
milter_listen = unix:/run/postern/milter.sock
milter_user = postern
accounts_file = $demo/accounts
CONF
chown -R postern:postern "$demo/spool"
install -d -o root -g postern -m 0750 /run/postern
chmod 640 "$demo/key.pem" "$demo/accounts"
chgrp postern "$demo/key.pem" "$demo/accounts"

build/milter/postern-milter -c "$demo/postern.conf" &
milter=$!
trap 'kill $milter 2>/dev/null; wait $milter 2>/dev/null' EXIT INT TERM

cat <<MSG

Postern is running (Ctrl-C stops it). Configuration: $demo/postern.conf
  SMTP with STARTTLS: 127.0.0.1:2525 and [::1]:2525    implicit TLS: 127.0.0.1:4465
  Demo account:       user "demo", password "$password", may send as @example.com
  Spool:              $demo/spool/new/
Try it:
  swaks --server 127.0.0.1:2525 --tls --auth PLAIN --auth-user demo \\
        --auth-password '$password' --from demo@example.com --to someone@example.net \\
        --header 'Subject: hello' --body 'Hello from Postern'

MSG
build/frontend/postern-smtpd -c "$demo/postern.conf"
