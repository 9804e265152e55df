#!/bin/sh
# install-deps.sh - install every Debian 12 package Postern needs to build, test and run.
# Idempotent; safe to run as root on a fresh machine (CI does).
set -eu
export DEBIAN_FRONTEND=noninteractive

# The system Postfix must never start or take port 25: tests run private instances.
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
echo "postfix postfix/mailname string postern.invalid" | debconf-set-selections

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends \
    build-essential autoconf automake libtool pkg-config autoconf-archive \
    libmilter-dev libgnutls28-dev libmagic-dev libmagic-mgc libpsl-dev libidn2-dev \
    libcrypt-dev libevent-dev libcmocka-dev uuid-dev \
    clang libclang-rt-14-dev valgrind \
    python3 swaks libnet-ssleay-perl libio-socket-ssl-perl libauthen-sasl-perl \
    gnutls-bin postfix sasl2-bin libsasl2-modules opendkim opendkim-tools rspamd adduser \
    openssl ca-certificates procps psmisc iproute2 file groff-base man-db m4 util-linux \
    haproxy libsystemd-dev systemd python3-yaml

# Sendmail for tests/integration/test_sendmail_milter.py: sendmail-bin conflicts with
# postfix, so its packages are only downloaded; the test unpacks them privately.
SENDMAIL_DEBS=/var/cache/postern/sendmail-debs
if ! ls "$SENDMAIL_DEBS"/sendmail-bin_*.deb >/dev/null 2>&1; then
    $SUDO mkdir -p "$SENDMAIL_DEBS"
    $SUDO chown _apt "$SENDMAIL_DEBS" 2>/dev/null || true
    # apt-get download writes to the current directory (as _apt where it may).
    (cd "$SENDMAIL_DEBS" && $SUDO apt-get download -q sendmail-bin sendmail-cf libwrap0 liblockfile1)
fi
