"""test_smtpd_bdat.py - CHUNKING (RFC 3030): BDAT chunks, LAST, sequence errors,
exact bytes in the spool, size limit, and chunks that must be skipped."""

import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import smtpd as h  # noqa: E402


def octets(n):
    return h.reply_line("R_BDAT_OK", str(n))


class Bdat(h.SmtpdTestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = h.Smtpd(message_size_limit="100k").start()

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()

    def envelope(self, c):
        c.ehlo()
        self.assertEqual(c.cmd("MAIL FROM:<a@example.com>"), "250 2.1.0 Sender <a@example.com> OK")
        self.assertEqual(c.cmd("RCPT TO:<b@example.com>"), "250 2.1.5 Recipient <b@example.com> OK")

    def bdat(self, c, chunk, last=False):
        c.send(b"BDAT %d%s\r\n" % (len(chunk), b" LAST" if last else b"") + chunk)
        return c.reply()

    def test_chunks_then_last(self):
        parts = [b"From: a@example.com\r\nTo: b@example.com\r\n", b"Subject: bdat\r\n\r\n",
                 b"line one\r\n.\r\n..dots stay\r\n", b"end\r\n"]
        with self.d.client() as c:
            self.envelope(c)
            for p in parts[:-1]:
                self.assertEqual(self.bdat(c, p), octets(len(p)))
            r = self.bdat(c, parts[-1], last=True)
            m = h.QUEUED_RE.match(r)
            self.assertTrue(m, r)
        self.assertIn(b"".join(parts), self.d.spool_data(m.group(1)))

    def test_single_last_chunk_and_bdat_zero_last(self):
        msg = h.sample_message("bdat zero")
        with self.d.client() as c:
            self.envelope(c)
            self.assertEqual(self.bdat(c, msg), octets(len(msg)))
            m = h.QUEUED_RE.match(self.bdat(c, b"", last=True))
            self.assertTrue(m)
            self.assertIn(msg, self.d.spool_data(m.group(1)))
            self.envelope(c)
            m2 = h.QUEUED_RE.match(self.bdat(c, msg, last=True))
            self.assertTrue(m2)
            self.assertNotEqual(m.group(1), m2.group(1))

    def test_bdat_without_mail_chunk_skipped(self):
        with self.d.client() as c:
            c.ehlo()
            # The chunk is read and thrown away, never taken as a command.
            self.assertEqual(self.bdat(c, b"NOOP\r\n"), "503 5.5.1 Need MAIL command")
            self.assertEqual(c.cmd("NOOP"), "250 2.0.0 OK")
            self.assertEqual(c.pending(0.3), b"")

    def test_bdat_before_ehlo_chunk_skipped(self):
        with self.d.client() as c:
            # Refused before EHLO, the chunk is still read and thrown away (RFC 3030).
            self.assertEqual(self.bdat(c, b"NOOP\r\n", last=True), h.reply_line("R_NEED_HELO"))
            self.assertEqual(c.cmd("NOOP"), "250 2.0.0 OK")
            self.assertEqual(c.pending(0.3), b"")

    def test_bdat_before_starttls_chunk_skipped(self):
        with h.Smtpd(tls=True, smtpd_require_tls="yes") as d, d.client() as c:
            c.ehlo()
            self.assertEqual(self.bdat(c, b"RSET\r\n", last=True), h.reply_line("R_NEED_STARTTLS"))
            self.assertEqual(c.cmd("NOOP"), "250 2.0.0 OK")
            self.assertEqual(c.pending(0.3), b"")

    def test_bdat_without_rcpt(self):
        with self.d.client() as c:
            c.ehlo()
            c.cmd("MAIL FROM:<a@example.com>")
            self.assertEqual(self.bdat(c, b"RSET\r\n", last=True), "503 5.5.1 Need RCPT command")
            self.assertEqual(c.cmd("NOOP"), "250 2.0.0 OK")

    def test_data_inside_bdat_transaction(self):
        with self.d.client() as c:
            self.envelope(c)
            self.assertEqual(self.bdat(c, b"Subject: x\r\n"), octets(12))
            self.assertEqual(c.cmd("DATA"), h.reply_line("R_BAD_SEQUENCE"))

    def test_bdat_syntax(self):
        with self.d.client() as c:
            self.envelope(c)
            self.assertEqual(c.cmd("BDAT"), h.reply_line("R_BDAT_SYNTAX"))
            self.assertEqual(c.cmd("BDAT ten"), h.reply_line("R_BDAT_SYNTAX"))
            self.assertEqual(c.cmd("BDAT 0 FIRST"), h.reply_line("R_BDAT_SYNTAX"))

    def test_over_size_limit(self):
        with self.d.client() as c:
            self.envelope(c)
            big = (b"x" * 1022 + b"\r\n") * 60
            self.assertEqual(self.bdat(c, big), octets(len(big)))
            replies = [self.bdat(c, big, last=True)]
            self.assertEqual(replies[-1], "552 5.3.4 Message size exceeds fixed limit")
            self.assertEqual(c.cmd("NOOP"), "250 2.0.0 OK")
            self.assertEqual(c.cmd("RCPT TO:<b@example.com>"), "503 5.5.1 Need MAIL command")

    def test_pipelined_bdat_transaction(self):
        a, b = b"Subject: piped\r\n\r\n", b"bdat body\r\n"
        with self.d.client() as c:
            c.send(b"EHLO client.example\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\n"
                   b"BDAT %d\r\n" % len(a) + a + b"BDAT %d LAST\r\n" % len(b) + b + b"QUIT\r\n")
            self.assertIn("CHUNKING", h.ehlo_keywords(c.reply_lines()))
            self.assertEqual(c.reply(), "250 2.1.0 Sender <a@example.com> OK")
            self.assertEqual(c.reply(), "250 2.1.5 Recipient <b@example.com> OK")
            self.assertEqual(c.reply(), octets(len(a)))
            m = h.QUEUED_RE.match(c.reply())
            self.assertTrue(m)
            self.assertEqual(c.reply(), "221 2.0.0 Bye")
        self.assertIn(a + b, self.d.spool_data(m.group(1)))

    def test_large_chunk_split_across_writes(self):
        body = b"Subject: large\r\n\r\n" + b"".join(b"%08d abcdefghijklmnopqrstuvwxyz\r\n" % i
                                                   for i in range(2500))
        self.assertLess(len(body), 100 * 1024)
        with self.d.client() as c:
            self.envelope(c)
            c.send(b"BDAT %d LAST\r\n" % len(body))
            for i in range(0, len(body), 1000):
                c.send(body[i:i + 1000])
            m = h.QUEUED_RE.match(c.reply())
            self.assertTrue(m)
        self.assertIn(body, self.d.spool_data(m.group(1)))

    def test_bare_lf_in_bdat(self):
        # Policed like DATA (smtpd_bare_newline = reject by default): nothing queued.
        before = len(self.d.spool_ids())
        with self.d.client() as c:
            self.envelope(c)
            self.assertEqual(self.bdat(c, b"Subject: bare\r\n\r\nbare\nlf\r\n", last=True),
                             h.reply_line("R_BARE_NEWLINE"))
        self.assertEqual(len(self.d.spool_ids()), before)


if __name__ == "__main__":
    h.main()
