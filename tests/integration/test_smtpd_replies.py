"""test_smtpd_replies.py - greeting, EHLO extensions, HELP, and the connection-level
rows beyond the table (HTTP verbs, over-long lines, NUL bytes, too many errors)."""

import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import smtpd as h  # noqa: E402

BASE = ["PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES", "SMTPUTF8", "CHUNKING", "BINARYMIME"]


class Ehlo(h.SmtpdTestCase):
    def assertExtensions(self, lines, size, rcptmax, starttls, auth):
        self.assertTrue(lines[0].startswith("250-" + h.HOSTNAME), lines)
        self.assertTrue(lines[-1].startswith("250 "), lines)
        for ln in lines[1:-1]:
            self.assertTrue(ln.startswith("250-"), lines)
        want = BASE + ["SIZE %d" % size, "LIMITS RCPTMAX=%d" % rcptmax]
        if starttls:
            want.append("STARTTLS")
        if auth:
            want.append("AUTH PLAIN LOGIN")
        self.assertEqual(sorted(h.ehlo_keywords(lines)), sorted(want))

    def test_greeting_and_ehlo_plain_no_cert(self):
        # No certificate: no STARTTLS; AUTH offered in plain text (require_tls resolves to no).
        with h.Smtpd(smtpd_require_auth=True) as d, d.client() as c:
            self.assertTrue(c.banner.startswith("220 " + h.HOSTNAME), c.banner)
            self.assertExtensions(c.ehlo(), 26214400, 100, starttls=False, auth=True)

    def test_ehlo_limits_follow_config(self):
        with h.Smtpd(smtpd_require_auth=True, message_size_limit="10m",
                     smtpd_max_recipients=7) as d, d.client() as c:
            self.assertExtensions(c.ehlo(), 10 * 1024 * 1024, 7, starttls=False, auth=True)

    def test_ehlo_require_tls_hides_auth_until_tls(self):
        with h.Smtpd(tls=True, smtpd_require_auth=True) as d, d.client() as c:
            self.assertExtensions(c.ehlo(), 26214400, 100, starttls=True, auth=False)
            c.starttls()
            self.assertExtensions(c.ehlo(), 26214400, 100, starttls=False, auth=True)

    def test_ehlo_tls_optional_offers_both(self):
        with h.Smtpd(tls=True, smtpd_require_tls=False, smtpd_require_auth=True) as d, \
                d.client() as c:
            self.assertExtensions(c.ehlo(), 26214400, 100, starttls=True, auth=True)

    def test_ehlo_implicit_tls_port(self):
        with h.Smtpd(tls_listen=True, smtpd_require_auth=True) as d, d.tls_client() as c:
            self.assertTrue(c.banner.startswith("220 " + h.HOSTNAME), c.banner)
            self.assertExtensions(c.ehlo(), 26214400, 100, starttls=False, auth=True)
            self.assertEqual(c.cmd("STARTTLS"), "503 5.5.1 TLS already active")

    def test_ehlo_resets_transaction(self):
        with h.Smtpd() as d, d.client() as c:
            c.ehlo()
            self.assertEqual(c.cmd("MAIL FROM:<a@example.com>"), "250 2.1.0 Sender <a@example.com> OK")
            c.ehlo()
            self.assertEqual(c.cmd("RCPT TO:<b@example.com>"), "503 5.5.1 Need MAIL command")


class Misc(h.SmtpdTestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = h.Smtpd(smtpd_max_errors=5).start()

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()

    def test_mail_before_ehlo(self):
        with self.d.client() as c:
            self.assertEqual(c.cmd("MAIL FROM:<a@example.com>"), h.reply_line("R_NEED_HELO"))
            self.assertTrue(c.cmd("HELO client.example").startswith("250 " + h.HOSTNAME))
            self.assertEqual(c.cmd("MAIL FROM:<a@example.com>"), "250 2.1.0 Sender <a@example.com> OK")

    def test_help(self):
        with self.d.client() as c:
            self.assertEqual(c.cmd("HELP"), h.reply_line("R_HELP"))
            self.assertEqual(c.cmd("HELP foo"), "504 5.5.4 Unrecognized command parameter foo")
            self.assertEqual(c.cmd("HELP foo bar"),
                             "504 5.5.4 Unrecognized command parameter foo bar")

    def test_http_verbs_close_at_once(self):
        for req in ("GET / HTTP/1.0", "POST /submit HTTP/1.1", "CONNECT mail.example:25 HTTP/1.1"):
            with self.subTest(req=req), self.d.client() as c:
                c.send(req + "\r\nHost: x\r\n\r\n")
                self.assertEqual(c.reply(), h.reply_line("R_HTTP_COMMAND"))
                self.assertTrue(c.closed(), "still open after %r, sent %r" % (req, c.leftover))

    def test_http_verb_after_ehlo(self):
        with self.d.client() as c:
            c.ehlo()
            self.assertEqual(c.cmd("GET / HTTP/1.1"), h.reply_line("R_HTTP_COMMAND"))
            self.assertTrue(c.closed())

    def test_line_too_long(self):
        # RFC 5321 4.5.3.1.4: a command line is at most 512 octets with its CRLF.
        with self.d.client() as c:
            self.assertEqual(c.cmd("NOOP " + "x" * 600), h.reply_line("R_LINE_TOO_LONG"))
            # The rest of the long line was not taken as a command.
            self.assertEqual(c.cmd("NOOP"), "250 2.0.0 OK")
            self.assertEqual(c.pending(0.3), b"")

    def test_huge_line(self):
        # 200 KB on one line: discarded up to its newline, one reply, then business as usual.
        with self.d.client() as c:
            for i in range(0, 200000, 10000):
                c.send(("NOOP " if i == 0 else "") + "y" * 10000)
            c.send("\r\n")
            self.assertEqual(c.reply(), h.reply_line("R_LINE_TOO_LONG"))
            self.assertEqual(c.cmd("NOOP"), "250 2.0.0 OK")
            self.assertEqual(c.pending(0.3), b"")

    def test_line_of_512_is_fine(self):
        with self.d.client() as c:
            self.assertEqual(c.cmd("NOOP " + "x" * (512 - 7)), "250 2.0.0 OK")

    def test_nul_byte(self):
        with self.d.client() as c:
            c.send(b"NOOP\x00 hidden\r\n")
            self.assertEqual(c.reply(), h.reply_line("R_NUL_BYTE"))
            self.assertEqual(c.cmd("NOOP"), "250 2.0.0 OK")

    def test_too_many_errors(self):
        # smtpd_max_errors = 5: bad commands get their reply until the count is
        # reached, then R_TOO_MANY_ERRORS and the connection is closed.
        with self.d.client() as c:
            replies = []
            for _ in range(7):
                try:
                    r = c.cmd("FROB")
                except (EOFError, ConnectionResetError):
                    break
                replies.append(r)
                if r == h.reply_line("R_TOO_MANY_ERRORS"):
                    break
            self.assertEqual(replies[-1], h.reply_line("R_TOO_MANY_ERRORS"), replies)
            self.assertIn(len(replies), (5, 6), replies)
            self.assertEqual(set(replies[:-1]), {"502 5.5.1 Unrecognized command"}, replies)
            self.assertTrue(c.closed())

    def test_good_commands_do_not_count_as_errors(self):
        with self.d.client() as c:
            for _ in range(4):
                self.assertEqual(c.cmd("FROB"), "502 5.5.1 Unrecognized command")
                self.assertEqual(c.cmd("NOOP"), "250 2.0.0 OK")
            # 4 errors so far, limit 5: still talking.
            self.assertEqual(c.cmd("NOOP"), "250 2.0.0 OK")

    def test_commands_case_insensitive(self):
        with self.d.client() as c:
            self.assertTrue(c.cmd("ehlo client.example").startswith("250-" + h.HOSTNAME))
            self.assertEqual(c.cmd("mail from:<a@example.com>"), "250 2.1.0 Sender <a@example.com> OK")
            self.assertEqual(c.cmd("rcpt to:<b@example.com>"), "250 2.1.5 Recipient <b@example.com> OK")
            self.assertEqual(c.cmd("rset"), "250 2.0.0 OK")
            self.assertEqual(c.cmd("quit"), "221 2.0.0 Bye")

    def test_address_placeholder_keeps_client_spelling(self):
        with self.d.client() as c:
            c.ehlo()
            self.assertEqual(c.cmd("MAIL FROM:<Alice.Smith@Example.COM>"),
                             "250 2.1.0 Sender <Alice.Smith@Example.COM> OK")
            self.assertEqual(c.cmd("RCPT TO:<Bob@Example.com>"),
                             "250 2.1.5 Recipient <Bob@Example.com> OK")

    def test_mail_parameters(self):
        with self.d.client() as c:
            c.ehlo()
            self.assertEqual(c.cmd("MAIL FROM:<a@example.com> BODY=8BITMIME SIZE=100 SMTPUTF8"),
                             "250 2.1.0 Sender <a@example.com> OK")

    def test_smtputf8_address(self):
        with self.d.client() as c:
            c.ehlo()
            self.assertEqual(c.cmd("MAIL FROM:<jos\u00e9@exampl\u00e9.com> SMTPUTF8"),
                             "250 2.1.0 Sender <jos\u00e9@exampl\u00e9.com> OK")


if __name__ == "__main__":
    h.main()
