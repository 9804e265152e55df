#!/bin/sh
# install-deps.sh - install the Debian 12 packages Postern needs.
# Usage: sh scripts/install-deps.sh [run|test] [--print]
#   run      what building and running need (scripts/quickstart.sh)
#   test     that, plus what the test suite needs (scripts/test.sh, CI): the default
#   --print  list the packages of the set instead of installing them
# Idempotent; safe to run as root on a fresh machine (CI does).
set -eu
export DEBIAN_FRONTEND=noninteractive
set_=${1:-test}
case $set_ in
run|test) ;;
*) echo "usage: sh scripts/install-deps.sh [run|test] [--print]" >&2; exit 2 ;;
esac
print=no
[ "${2:-}" = --print ] && print=yes

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

# Build and run: the compiler and the libraries, certtool for the demo's
# certificate, python3 for its next hop (scripts/demo-sink.py), swaks to try it.
RUN_PKGS="build-essential autoconf automake libtool pkg-config autoconf-archive
    libmilter-dev libgnutls28-dev libmagic-dev libmagic-mgc libpsl-dev libidn2-dev
    libcrypt-dev libevent-dev uuid-dev zlib1g-dev libsystemd-dev
    gnutls-bin adduser ca-certificates python3
    swaks libnet-ssleay-perl libio-socket-ssl-perl libauthen-sasl-perl"
# Tests: the unit test framework, the sanitizers' runtime, valgrind, the real
# MTAs and milters the integration tests run privately, and the tools they use.
TEST_PKGS="libcmocka-dev clang libclang-rt-14-dev valgrind
    postfix sasl2-bin libsasl2-modules opendkim opendkim-tools rspamd
    openssl procps psmisc iproute2 file groff-base man-db m4 util-linux
    haproxy systemd python3-yaml"

pkgs=$RUN_PKGS
[ "$set_" = test ] && pkgs="$RUN_PKGS $TEST_PKGS"
if [ "$print" = yes ]; then
    # shellcheck disable=SC2086
    printf '%s\n' $pkgs
    exit 0
fi
if [ "$set_" = test ]; then
    # The system Postfix must never start or take port 25: tests run private instances.
    echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
    echo "postfix postfix/mailname string postern.invalid" | $SUDO debconf-set-selections
fi

$SUDO apt-get update -q
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $pkgs

[ "$set_" = test ] || exit 0
# Sendmail for tests/integration/test_sendmail_milter.py: sendmail-bin conflicts with
# postfix, so its packages are only downloaded; the test unpacks them privately.
SENDMAIL_DEBS=/var/cache/postern/sendmail-debs
if ! ls "$SENDMAIL_DEBS"/sendmail-bin_*.deb >/dev/null 2>&1; then
    $SUDO mkdir -p "$SENDMAIL_DEBS"
    $SUDO chown _apt "$SENDMAIL_DEBS" 2>/dev/null || true
    # apt-get download writes to the current directory (as _apt where it may).
    (cd "$SENDMAIL_DEBS" && $SUDO apt-get download -q sendmail-bin sendmail-cf libwrap0 liblockfile1)
fi
