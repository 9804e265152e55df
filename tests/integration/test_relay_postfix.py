#!/usr/bin/env python3
"""test_relay_postfix.py - the relay's delivery client against a private Postfix as the real next hop.

Postfix hands every message it accepts to a pipe transport that saves it
in a folder, so a test compares what arrived with what was sent, byte for
byte. STARTTLS `encrypt` and `verify` run against a certificate from the
test's own CA (certtool), `verify` also against a wrong CA and a wrong
name; AUTH PLAIN against Postfix's Cyrus SASL with a private sasldb.
Exit 77 (skip) where a private Postfix cannot run (no root, no Postfix).
"""

import glob
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import postfix  # noqa: E402
import relay_hop  # noqa: E402
from relay_hop import deliver, write_conf  # noqa: E402

SENDER = "<alice@example.com>"
R1, R2 = "<bob@example.org>", "<carol@example.org>"
MESSAGE = (b"From: alice@example.com\r\nTo: bob@example.org\r\nSubject: through Postfix\r\n"
           b"Message-ID: <relay-postfix@example.com>\r\n\r\n"
           b"first line\r\n.leading dot\r\n.\r\n..\r\n  indented\r\nlast line\r\n")
RECEIVED = (b"Received: from client.example (client.example [127.0.0.1])\r\n"
            b"\tby relay.postern.test (Postern) with ESMTPSA id 1; Mon, 7 Dec 2026 14:00:00 +0000\r\n")
PASSWORD = "s3cret pass"


def certtool(*args):
    subprocess.run(["certtool"] + list(args), check=True, capture_output=True)


def make_ca(d, name):
    key, cert, tmpl = (os.path.join(d, name + x) for x in ("-key.pem", "-cert.pem", ".tmpl"))
    with open(tmpl, "w") as f:
        f.write('cn = "Postern test CA %s"\nca\ncert_signing_key\nexpiration_days = 30\n' % name)
    certtool("--generate-privkey", "--key-type=ecdsa", "--outfile", key)
    certtool("--generate-self-signed", "--load-privkey", key, "--template", tmpl, "--outfile", cert)
    return key, cert


def make_server_cert(d, ca_key, ca_cert):
    """A certificate for 127.0.0.1 (and no DNS name) signed by the CA."""
    key, cert, tmpl = (os.path.join(d, "server" + x) for x in ("-key.pem", "-cert.pem", ".tmpl"))
    with open(tmpl, "w") as f:
        f.write('cn = "127.0.0.1"\nip_address = "127.0.0.1"\ntls_www_server\n'
                "encryption_key\nsigning_key\nexpiration_days = 30\n")
    certtool("--generate-privkey", "--key-type=ecdsa", "--outfile", key)
    certtool("--generate-certificate", "--load-privkey", key, "--load-ca-certificate", ca_cert,
             "--load-ca-privkey", ca_key, "--template", tmpl, "--outfile", cert)
    for p in (key, cert):
        os.chmod(p, 0o644)
    return cert, key


class RelayPostfixTest(unittest.TestCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="postern-relay-pf-")
        os.chmod(cls.tmp, 0o755)
        cls.out = os.path.join(cls.tmp, "out")
        os.mkdir(cls.out)
        os.chmod(cls.out, 0o777)
        save = os.path.join(cls.tmp, "save.sh")
        with open(save, "w") as f:
            # One file per message, written then renamed: the test never reads half a file.
            f.write('#!/bin/sh\nf="%s/$$.$(date +%%s%%N)"\ncat > "$f.tmp" && mv "$f.tmp" "$f.eml"\n'
                    % cls.out)
        os.chmod(save, 0o755)
        cls.ca_key, cls.ca = make_ca(cls.tmp, "good")
        _, cls.wrong_ca = make_ca(cls.tmp, "wrong")
        cert, key = make_server_cert(cls.tmp, cls.ca_key, cls.ca)
        users = {"relayuser": PASSWORD} if postfix.SASLPASSWD2 else None
        cls.pf = postfix.PrivatePostfix(name="relay", sasl_users=users, main_cf={
            "default_transport": "savefile",
            "relay_transport": "savefile",
            "smtpd_tls_cert_file": cert,
            "smtpd_tls_key_file": key,
            "smtpd_tls_security_level": "may",
            "smtpd_tls_loglevel": "1",
            "smtpd_tls_auth_only": "yes",
            "savefile_destination_recipient_limit": "100",
        }, master_extra="tlsmgr unix - - n 1000? 1 tlsmgr\n"
                        "savefile unix - n n - - pipe flags= user=nobody argv=%s\n" % save)
        cls.pf.start()

    @classmethod
    def tearDownClass(cls):
        cls.pf.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="postern-relay-pf-t-")
        for f in glob.glob(os.path.join(self.out, "*")):
            os.unlink(f)

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def run_tool(self, rcpts=(R1,), message=MESSAGE, host=None, **keys):
        keys.setdefault("relay_tls", "none")
        conf = write_conf(self.dir, host or "[127.0.0.1]:%d" % self.pf.port, **keys)
        res, lines, err = deliver(conf, message, SENDER, rcpts, received=RECEIVED,
                                  directory=self.dir)
        self.stderr = err
        return res

    def saved(self, n=1, timeout=60):
        """The n messages Postfix delivered, as bytes; waits for them (Postfix queues first)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            files = sorted(glob.glob(os.path.join(self.out, "*.eml")))
            if len(files) >= n:
                break
            time.sleep(0.1)
        else:
            self.fail("Postfix delivered %d of %d messages:\n%s" % (len(files), n, self.pf.log()))
        out = []
        for p in files:
            with open(p, "rb") as f:
                out.append(f.read())
        return out

    @staticmethod
    def split_postfix_received(saved):
        """Postfix's own Received: header (first, folded), and the rest."""
        lines = saved.split(b"\n")
        assert lines[0].startswith(b"Received: from "), lines[0]
        i = 1
        while lines[i].startswith((b"\t", b" ")):
            i += 1
        return b"\n".join(lines[:i]), b"\n".join(lines[i:])

    def assertDelivered(self, res, rcpt=R1):
        state, reply = res[("1.1", rcpt)]
        self.assertEqual(state, "delivered", reply + "\n" + self.stderr + self.pf.log()[-3000:])
        self.assertRegex(reply, r"^250 2\.0\.0 Ok: queued as \w+$")

    def test_delivered_byte_identical(self):
        res = self.run_tool(rcpts=(R1, R2))
        self.assertDelivered(res, R1)
        self.assertDelivered(res, R2)
        [saved] = self.saved()
        theirs, rest = self.split_postfix_received(saved)
        # Postfix stores lines without CR and the pipe writes LF ends: compare in that form.
        self.assertEqual(rest, (RECEIVED + MESSAGE).replace(b"\r\n", b"\n"))
        self.assertIn(b"with ESMTP id", theirs)     # no TLS with relay_tls = none

    def test_8bit_message_identical(self):
        body = ("From: alice@example.com\r\nTo: bob@example.org\r\nSubject: caf\u00e9\r\n"
                "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n"
                "\r\nd\u00e9j\u00e0 vu, \u00fcber alles\r\n").encode()
        conf = write_conf(self.dir, "[127.0.0.1]:%d" % self.pf.port, relay_tls="none")
        res, _, self.stderr = deliver(conf, body, SENDER, [R1], eight=True, directory=self.dir)
        self.assertDelivered(res)
        _, rest = self.split_postfix_received(self.saved()[0])
        self.assertEqual(rest, body.replace(b"\r\n", b"\n"))

    def test_connection_reused(self):
        conf = write_conf(self.dir, "[127.0.0.1]:%d" % self.pf.port, relay_tls="encrypt")
        res, _, self.stderr = deliver(conf, MESSAGE, SENDER, [R1], rounds=3, directory=self.dir)
        for job in ("1.1", "2.1", "3.1"):
            self.assertEqual(res[(job, R1)][0], "delivered", self.stderr)
        self.assertEqual(len(self.saved(3)), 3)
        # Postfix sums up each connection when it ends: three messages on one, RSET between.
        want = "ehlo=2 starttls=1 mail=3 rcpt=3 data=3 rset=2 quit=1 commands=15"
        deadline = time.monotonic() + 30
        while want not in self.pf.log() and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertIn(want, self.pf.log())

    def test_starttls_encrypt(self):
        res = self.run_tool(relay_tls="encrypt")
        self.assertDelivered(res)
        theirs, rest = self.split_postfix_received(self.saved()[0])
        self.assertIn(b"with ESMTPS id", theirs)
        self.assertEqual(rest, (RECEIVED + MESSAGE).replace(b"\r\n", b"\n"))

    def test_starttls_verify(self):
        res = self.run_tool(relay_tls="verify", relay_tls_ca_file=self.ca)
        self.assertDelivered(res)
        theirs, _ = self.split_postfix_received(self.saved()[0])
        self.assertIn(b"with ESMTPS id", theirs)
        self.assertIn("certificate=verified", self.stderr)

    def test_verify_wrong_ca(self):
        res = self.run_tool(relay_tls="verify", relay_tls_ca_file=self.wrong_ca)
        self.assertEqual(res[("1.1", R1)], (
            "deferred", "4.7.5 certificate verification failed for [127.0.0.1]:%d: "
            "The certificate is NOT trusted. The certificate issuer is unknown. " % self.pf.port),
            self.stderr)
        self.assertEqual(glob.glob(os.path.join(self.out, "*.eml")), [])

    def test_verify_wrong_name(self):
        # The certificate names 127.0.0.1 only; "localhost" resolves there but is not in it.
        res = self.run_tool(relay_tls="verify", relay_tls_ca_file=self.ca,
                            host="[localhost]:%d" % self.pf.port)
        state, reply = res[("1.1", R1)]
        self.assertEqual(state, "deferred")
        self.assertEqual(reply, "4.7.5 certificate verification failed for [localhost]:%d: "
                         "The certificate is NOT trusted. The name in the certificate does "
                         "not match the expected. " % self.pf.port)

    def auth_file(self, password):
        path = os.path.join(self.dir, "relay-auth")
        with open(path, "w") as f:
            f.write("relayuser %s\n" % password)
        return path

    def test_auth_plain_over_tls(self):
        if not postfix.SASLPASSWD2:
            self.skipTest("saslpasswd2 missing (sasl2-bin)")
        res = self.run_tool(relay_tls="encrypt", relay_auth_file=self.auth_file(PASSWORD))
        self.assertDelivered(res)
        theirs, _ = self.split_postfix_received(self.saved()[0])
        self.assertIn(b"with ESMTPSA id", theirs)
        self.assertIn("sasl_method=PLAIN, sasl_username=relayuser", self.pf.log())

    def test_auth_wrong_password(self):
        if not postfix.SASLPASSWD2:
            self.skipTest("saslpasswd2 missing (sasl2-bin)")
        res = self.run_tool(relay_tls="encrypt", relay_auth_file=self.auth_file("wrong"))
        self.assertEqual(res[("1.1", R1)],
                         ("deferred", "535 5.7.8 Error: authentication failed: authentication failure"),
                         self.stderr)


if __name__ == "__main__":
    why = postfix.usable()
    if why:
        print("SKIP: " + why)
        sys.exit(77)
    relay_hop.main()
