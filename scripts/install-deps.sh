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
    gnutls-bin postfix sasl2-bin libsasl2-modules opendkim opendkim-tools adduser \
    openssl ca-certificates procps psmisc iproute2 file groff-base man-db
