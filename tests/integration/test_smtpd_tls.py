"""test_smtpd_tls.py - STARTTLS, implicit TLS, TLS 1.2 and 1.3, the plaintext-injection
class (CVE-2011-0411), and interop with real clients: gnutls-cli and swaks."""

import os
import re
import select
import shutil
import signal
import smtplib
import ssl
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import smtpd as h  # noqa: E402

READY = "220 2.0.0 Ready to start TLS"


class Tls(h.SmtpdTestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = h.Smtpd(tls_listen=True, smtpd_require_auth=True).start()

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()

    def full_session(self, c):
        """After TLS: EHLO, AUTH, a message; returns the queue id."""
        c.ehlo()
        self.assertEqual(c.auth_plain("alice"), "235 2.7.0 Authentication successful")
        r = c.send_message(h.sample_message("tls"))
        m = h.QUEUED_RE.match(r)
        self.assertTrue(m, r)
        return m.group(1)

    def test_starttls_then_mail(self):
        with self.d.client() as c:
            c.ehlo()
            self.assertEqual(c.cmd("MAIL FROM:<a@example.com>"), "530 5.7.0 Must issue a STARTTLS command first")
            self.assertEqual(c.cmd("AUTH PLAIN " + h.plain_b64("alice", "alice-secret")),
                             "530 5.7.0 Must issue a STARTTLS command first")
            self.assertEqual(c.cmd("STARTTLS"), READY)
            c.sock = h.client_ctx().wrap_socket(c.sock)
            qid = self.full_session(c)
            self.assertIn(qid, self.d.spool_ids())

    def test_starttls_twice(self):
        with self.d.client() as c:
            c.ehlo()
            c.starttls()
            c.ehlo()
            self.assertEqual(c.cmd("STARTTLS"), "503 5.5.1 TLS already active")

    def test_starttls_on_implicit_tls_port(self):
        with self.d.tls_client() as c:
            c.ehlo()
            self.assertEqual(c.cmd("STARTTLS"), "503 5.5.1 TLS already active")

    def test_starttls_with_parameter(self):
        with self.d.client() as c:
            c.ehlo()
            self.assertEqual(c.cmd("STARTTLS x"), "501 5.5.2 Syntax: STARTTLS (no parameters allowed)")

    def test_implicit_tls_session(self):
        with self.d.tls_client() as c:
            self.assertTrue(c.banner.startswith("220 " + h.HOSTNAME), c.banner)
            qid = self.full_session(c)
            self.assertIn(qid, self.d.spool_ids())

    def test_tls12_and_tls13(self):
        for ver, name in ((ssl.TLSVersion.TLSv1_2, "TLSv1.2"), (ssl.TLSVersion.TLSv1_3, "TLSv1.3")):
            with self.subTest(version=name):
                with self.d.client() as c:
                    c.ehlo()
                    c.starttls(h.client_ctx(ver, ver))
                    self.assertEqual(c.tls_version(), name)
                    self.assertEqual(c.cmd("NOOP"), "250 2.0.0 OK")
                with self.d.tls_client(ctx=h.client_ctx(ver, ver)) as c:
                    self.assertEqual(c.tls_version(), name)
                    self.assertEqual(c.cmd("NOOP"), "250 2.0.0 OK")

    def test_tls11_refused(self):
        ctx = h.client_ctx(ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1)
        try:
            ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        except ssl.SSLError:
            pass
        with self.d.client() as c:
            c.ehlo()
            self.assertEqual(c.cmd("STARTTLS"), READY)
            with self.assertRaises((ssl.SSLError, OSError)):
                s = ctx.wrap_socket(c.sock)
                s.sendall(b"NOOP\r\n")
                if not s.recv(100):
                    raise OSError("closed")
        self.assertTrue(self.d.alive())

    def test_starttls_injection_discarded(self):
        # CVE-2011-0411: commands pipelined behind STARTTLS in plain text must be dropped.
        with self.d.client() as c:
            c.ehlo()
            c.send("STARTTLS\r\nRSET\r\n")
            self.assertEqual(c.reply(), READY)
            self.assertEqual(c.buf, b"", "server answered plaintext behind STARTTLS")
            c.sock = h.client_ctx().wrap_socket(c.sock)
            lines = c.reply_lines_cmd("EHLO client.example")
            self.assertTrue(lines[0].startswith("250-" + h.HOSTNAME),
                            "first reply after the handshake: %r (the injected RSET answered?)" % lines)
            self.assertEqual(c.cmd("NOOP"), "250 2.0.0 OK")
            self.assertEqual(c.pending(0.3), b"")

    def test_starttls_injection_mail(self):
        # Same with an injected transaction: nothing of it may happen.
        with self.d.client() as c:
            c.ehlo()
            c.send("STARTTLS\r\nMAIL FROM:<evil@example.com>\r\n")
            self.assertEqual(c.reply(), READY)
            c.sock = h.client_ctx().wrap_socket(c.sock)
            c.ehlo()
            self.assertEqual(c.auth_plain("alice"), "235 2.7.0 Authentication successful")
            self.assertEqual(c.cmd("RCPT TO:<b@example.com>"), "503 5.5.1 Need MAIL command")

    def test_plaintext_after_handshake_garbage(self):
        # A client that sends plaintext where a ClientHello belongs: the session is dropped, daemon lives.
        with self.d.client() as c:
            c.ehlo()
            self.assertEqual(c.cmd("STARTTLS"), READY)
            c.send("EHLO not-tls\r\n")
            rest = c.pending(10)
            # At most a TLS alert record (content type 21), then the close; no SMTP reply.
            self.assertTrue(rest.endswith(b"<EOF>"), rest)
            self.assertTrue(rest == b"<EOF>" or rest.startswith(b"\x15\x03"), rest)
        self.assertTrue(self.d.alive())

    def test_smtplib_starttls(self):
        s = smtplib.SMTP(self.d.host, self.d.port, timeout=10)
        try:
            s.ehlo("client.example")
            self.assertTrue(s.has_extn("starttls"))
            self.assertFalse(s.has_extn("auth"))
            code, msg = s.starttls(context=h.client_ctx())
            self.assertEqual((code, msg.decode()), (220, "2.0.0 Ready to start TLS"))
            s.ehlo("client.example")
            self.assertFalse(s.has_extn("starttls"))
            s.login("alice", "alice-secret")
            self.assertEqual(s.sendmail("a@example.com", ["b@example.com"], h.sample_message("smtplib tls")), {})
        finally:
            s.quit()

    def test_smtplib_smtp_ssl(self):
        s = smtplib.SMTP_SSL(self.d.host, self.d.tls_port, timeout=10, context=h.client_ctx())
        try:
            s.ehlo("client.example")
            s.login("alice", "alice-secret")
            self.assertEqual(s.sendmail("a@example.com", ["b@example.com"], h.sample_message("smtps")), {})
        finally:
            s.quit()


class Reload(h.SmtpdTestCase):
    def test_sighup_reloads_certificate(self):
        certdir = tempfile.mkdtemp(prefix="postern-reload-")
        try:
            cert, key = h.make_cert(certdir, "first.postern.test")
            with h.Smtpd(smtpd_tls_cert_file=cert, smtpd_tls_key_file=key) as d:
                old = d.client()
                old.ehlo()
                old.starttls()
                first = old.sock.getpeercert(binary_form=True)
                newdir = os.path.join(certdir, "new")
                os.mkdir(newdir)
                ncert, nkey = h.make_cert(newdir, "second.postern.test")
                os.replace(nkey, key)
                os.replace(ncert, cert)
                d.signal(signal.SIGHUP)
                second = first
                deadline = time.time() + 5
                while second == first and time.time() < deadline:
                    time.sleep(0.2)
                    with d.client() as c:
                        c.ehlo()
                        c.starttls()
                        second = c.sock.getpeercert(binary_form=True)
                self.assertNotEqual(second, first, "new certificate not served after SIGHUP")
                # The session that started under the old certificate goes on.
                self.assertTrue(old.cmd("EHLO client.example").startswith("250-" + h.HOSTNAME))
                self.assertEqual(old.cmd("NOOP"), "250 2.0.0 OK")
                old.close()
        finally:
            shutil.rmtree(certdir, ignore_errors=True)


class RealClients(h.SmtpdTestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = h.Smtpd(tls_listen=True, smtpd_require_auth=True).start()

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()

    def swaks(self, *args):
        if not shutil.which("swaks"):
            self.skipTest("swaks not installed")
        r = subprocess.run(["swaks", "--helo", "client.example", "--from", "a@example.com",
                            "--to", "b@example.com", "--auth", "PLAIN", "--auth-user", "alice",
                            "--auth-password", "alice-secret", "--timeout", "20"] + list(args),
                           capture_output=True, text=True, timeout=60)
        out = r.stdout + r.stderr
        self.assertEqual(r.returncode, 0, out)
        m = re.search(r"250 2\.6\.0 Message queued as (" + h.UUID7 + r")\s*$", out, re.M)
        self.assertTrue(m, out)
        self.assertIn(m.group(1), self.d.spool_ids())
        return out

    def test_swaks_starttls(self):
        out = self.swaks("--server", "%s:%d" % (self.d.host, self.d.port), "--tls")
        self.assertIn(READY, out)
        self.assertIn("235 2.7.0 Authentication successful", out)

    def test_swaks_tls_on_connect(self):
        out = self.swaks("--server", "%s:%d" % (self.d.host, self.d.tls_port), "--tls-on-connect")
        self.assertIn("235 2.7.0 Authentication successful", out)

    def test_gnutls_cli_starttls(self):
        if not shutil.which("gnutls-cli"):
            self.skipTest("gnutls-cli not installed")
        p = subprocess.Popen(["gnutls-cli", "--insecure", "--starttls-proto=smtp",
                              "-p", str(self.d.port), "127.0.0.1"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT)
        out = b""

        def expect(pattern, timeout=15):
            nonlocal out
            rx = re.compile(pattern.encode(), re.M)
            deadline = time.time() + timeout
            while not rx.search(out):
                left = deadline - time.time()
                if left <= 0 or p.poll() is not None and not select.select([p.stdout], [], [], 0)[0]:
                    self.fail("gnutls-cli: no %r in:\n%s" % (pattern, out.decode("utf-8", "replace")))
                if select.select([p.stdout], [], [], min(left, 0.5))[0]:
                    chunk = os.read(p.stdout.fileno(), 65536)
                    if not chunk and p.poll() is not None:
                        continue
                    out += chunk
            m = rx.search(out)
            out = out[m.end():]
            return m

        def send(line):
            # CRLF written here: gnutls-cli --crlf rewrites only the first LF of each read.
            p.stdin.write(line.encode() + b"\r\n")
            p.stdin.flush()

        try:
            expect(r"Handshake was completed")
            send("EHLO client.example")
            expect(r"^250 ")
            send("AUTH PLAIN " + h.plain_b64("alice", "alice-secret"))
            expect(r"^235 2\.7\.0 Authentication successful\r?$")
            send("MAIL FROM:<a@example.com>")
            expect(r"^250 2\.1\.0 Sender <a@example\.com> OK\r?$")
            send("RCPT TO:<b@example.com>")
            expect(r"^250 2\.1\.5 Recipient <b@example\.com> OK\r?$")
            send("DATA")
            expect(r"^354 End data with <CR><LF>\.<CR><LF>\r?$")
            send("From: a@example.com\r\nTo: b@example.com\r\nSubject: gnutls-cli\r\n\r\n"
                 "sent by gnutls-cli\r\n.")
            m = expect(r"^250 2\.6\.0 Message queued as (" + h.UUID7 + r")\r?$")
            self.assertIn(m.group(1).decode(), self.d.spool_ids())
            send("QUIT")
            expect(r"^221 2\.0\.0 Bye\r?$")
        finally:
            try:
                p.stdin.close()
            except OSError:
                pass
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            p.stdout.close()


if __name__ == "__main__":
    h.main()
