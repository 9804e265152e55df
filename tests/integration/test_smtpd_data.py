"""test_smtpd_data.py - DATA: the queued reply and id, exact spooled bytes, PIPELINING,
SMTP smuggling variants, pre-mature end, connection reset mid-DATA."""

import os
import socket
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import smtpd as h  # noqa: E402

GO = "354 End data with <CR><LF>.<CR><LF>"

# Bodies whose "end of data" hides behind a bare CR or LF, then a second transaction.
SMUGGLE_SEPS = [b"\n.\n", b"\r.\r\n", b"\n.\r\n", b"\r\n.\n", b"\r.\r"]
SMUGGLED = (b"MAIL FROM:<evil@example.com>\r\nRCPT TO:<victim@example.com>\r\nDATA\r\n"
            b"From: evil@example.com\r\nSubject: smuggled\r\n\r\nevil\r\n.\r\n")


def replies_until_eof(c, timeout=5.0):
    """Every reply the server sends until it closes or stays silent for `timeout`."""
    out = []
    while True:
        try:
            out.append(c.reply(timeout=timeout))
        except (EOFError, ConnectionResetError):
            out.append("<EOF>")
            return out
        except socket.timeout:
            return out


class Data(h.SmtpdTestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = h.Smtpd().start()

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()

    def test_queued_id_and_exact_body(self):
        body = (b"From: a@example.com\r\nTo: b@example.com\r\nSubject: exact\r\n"
                b"Content-Type: text/plain; charset=utf-8\r\n\r\n"
                b".leading dot\r\n..two dots\r\n.\r\n \r\n\r\n"
                b"caf\xc3\xa9 8bit\r\n" + b"z" * 990 + b"\r\nlast line\r\n")
        with self.d.client() as c:
            c.ehlo()
            r = c.send_message(body, sender="env-sender@example.com", rcpts=("env-rcpt@example.net",))
            m = h.QUEUED_RE.match(r)
            self.assertTrue(m, "reply %r does not match %s" % (r, h.QUEUED_RE.pattern))
            qid = m.group(1)
        self.assertIn(qid, self.d.spool_ids())
        data = self.d.spool_data(qid)
        self.assertIn(body, data, "spooled bytes differ from the (unstuffed) body")
        self.assertIn(b"env-sender@example.com", data)
        self.assertIn(b"env-rcpt@example.net", data)

    def test_ids_unique_and_time_ordered(self):
        ids = []
        with self.d.client() as c:
            c.ehlo()
            for i in range(5):
                m = h.QUEUED_RE.match(c.send_message(h.sample_message("order %d" % i)))
                self.assertTrue(m)
                ids.append(m.group(1))
        self.assertEqual(len(set(ids)), 5)
        self.assertEqual(sorted(ids), ids, "UUIDv7 ids not time-ordered")
        ms = int(ids[0].replace("-", "")[:12], 16)
        self.assertLess(abs(ms / 1000.0 - time.time()), 60, "UUIDv7 timestamp is not now")
        for qid in ids:
            self.assertIn(qid, self.d.spool_ids())

    def test_several_recipients_in_envelope(self):
        rcpts = ("r1@example.net", "r2@example.org", "r3@example.com")
        with self.d.client() as c:
            c.ehlo()
            m = h.QUEUED_RE.match(c.send_message(h.sample_message("three"), rcpts=rcpts))
            self.assertTrue(m)
        data = self.d.spool_data(m.group(1))
        for r in rcpts:
            self.assertIn(r.encode(), data)

    def test_rset_after_data_and_second_transaction(self):
        with self.d.client() as c:
            c.ehlo()
            self.assertRegex(c.send_message(h.sample_message("one")), h.QUEUED_RE)
            self.assertEqual(c.cmd("RCPT TO:<b@example.com>"), "503 5.5.1 Need MAIL command")
            self.assertRegex(c.send_message(h.sample_message("two")), h.QUEUED_RE)
            self.assertEqual(c.cmd("RSET"), "250 2.0.0 OK")

    def test_null_sender(self):
        # <> is syntactically fine at the frontend (the milter judges it).
        with self.d.client() as c:
            c.ehlo()
            self.assertEqual(c.cmd("MAIL FROM:<>"), "250 2.1.0 Sender <> OK")


class Pipelining(h.SmtpdTestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = h.Smtpd(smtpd_require_auth=True).start()

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()

    def test_whole_transaction_in_one_write(self):
        body = h.dot_stuff(h.sample_message("pipelined", ".dot\r\nbody\r\n"))
        with self.d.client() as c:
            c.send(b"EHLO client.example\r\n"
                   b"AUTH PLAIN " + h.plain_b64("alice", "alice-secret").encode() + b"\r\n"
                   b"MAIL FROM:<a@example.com>\r\n"
                   b"RCPT TO:<b@example.com>\r\n"
                   b"RCPT TO:<c@example.com>\r\n"
                   b"DATA\r\n" + body + b".\r\n"
                   b"NOOP\r\n"
                   b"QUIT\r\n")
            ehlo = c.reply_lines()
            self.assertTrue(ehlo[0].startswith("250-" + h.HOSTNAME), ehlo)
            self.assertIn("PIPELINING", h.ehlo_keywords(ehlo))
            self.assertEqual(c.reply(), "235 2.7.0 Authentication successful")
            self.assertEqual(c.reply(), "250 2.1.0 Sender <a@example.com> OK")
            self.assertEqual(c.reply(), "250 2.1.5 Recipient <b@example.com> OK")
            self.assertEqual(c.reply(), "250 2.1.5 Recipient <c@example.com> OK")
            self.assertEqual(c.reply(), GO)
            m = h.QUEUED_RE.match(c.reply())
            self.assertTrue(m)
            self.assertEqual(c.reply(), "250 2.0.0 OK")
            self.assertEqual(c.reply(), "221 2.0.0 Bye")
            self.assertTrue(c.closed())
        self.assertIn(b"\r\n.dot\r\nbody\r\n", self.d.spool_data(m.group(1)))

    def test_two_transactions_and_errors_in_one_write(self):
        msg = h.dot_stuff(h.sample_message("p")) + b".\r\n"
        with self.d.client() as c:
            c.send(b"EHLO client.example\r\n"
                   b"AUTH PLAIN " + h.plain_b64("alice", "alice-secret").encode() + b"\r\n"
                   b"MAIL FROM:<a@example.com>\r\nRCPT TO:<bad>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n" + msg +
                   b"MAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n" + msg +
                   b"VRFY x\r\nQUIT\r\n")
            c.reply_lines()
            got = [c.reply() for _ in range(11)]
            self.assertEqual(c.reply(), "221 2.0.0 Bye")
        self.assertEqual(got[0], "235 2.7.0 Authentication successful")
        self.assertEqual(got[1:5], ["250 2.1.0 Sender <a@example.com> OK",
                                    "501 5.1.7 Bad recipient address <bad>",
                                    "250 2.1.5 Recipient <b@example.com> OK", GO])
        self.assertRegex(got[5], h.QUEUED_RE)
        self.assertEqual(got[6:9], ["250 2.1.0 Sender <a@example.com> OK",
                                    "250 2.1.5 Recipient <b@example.com> OK", GO])
        self.assertRegex(got[9], h.QUEUED_RE)
        self.assertNotEqual(got[5], got[9])
        self.assertEqual(got[10], "502 5.5.1 VRFY command has been disabled")


class Smuggling(h.SmtpdTestCase):
    """Only <CRLF>.<CRLF> ends DATA; bare CR/LF: the documented policy (smtpd_bare_newline)."""

    def run_variant(self, d, sep):
        before = len(d.spool_ids())
        with d.client() as c:
            c.ehlo()
            c.mail_rcpt_data()
            c.send(b"From: a@example.com\r\nSubject: smuggle\r\n\r\nhello" + sep + SMUGGLED + b"QUIT\r\n")
            got = replies_until_eof(c)
        for r in got:
            self.assertFalse(r.startswith("250 2.1.0") or r.startswith("250 2.1.5") or r == GO,
                             "a second transaction was started by %r: %r" % (sep, got))
        queued = [r for r in got if h.QUEUED_RE.match(r)]
        self.assertLessEqual(len(queued), 1, got)
        self.assertEqual(len(d.spool_ids()) - before, len(queued), got)
        return got, queued

    def test_reject_by_default(self):
        with h.Smtpd() as d:
            for sep in SMUGGLE_SEPS:
                with self.subTest(sep=sep):
                    got, queued = self.run_variant(d, sep)
                    self.assertEqual(queued, [], got)
                    self.assertEqual(got[0], h.reply_line("R_BARE_NEWLINE"), got)
                    self.assertIn(got[1:], (["221 2.0.0 Bye", "<EOF>"], ["<EOF>"]), got)

    def test_normalize_keeps_one_message(self):
        with h.Smtpd(smtpd_bare_newline="normalize") as d:
            for sep in SMUGGLE_SEPS:
                with self.subTest(sep=sep):
                    got, queued = self.run_variant(d, sep)
                    self.assertEqual(len(queued), 1, got)
                    self.assertEqual(got[-2:], ["221 2.0.0 Bye", "<EOF>"], got)
                    data = d.spool_data(h.QUEUED_RE.match(queued[0]).group(1))
                    self.assertIn(b"evil@example.com", data)   # the would-be smuggled part is content
                    self.assertIn(b"\r\nevil\r\n", data)

    def test_crlf_only_body_with_lookalikes_accepted(self):
        # ". " and ".x" lines with proper CRLFs are not end markers either.
        with h.Smtpd() as d, d.client() as c:
            c.ehlo()
            body = b"Subject: look\r\n\r\n. \r\n.x\r\n...\r\n"
            r = c.send_message(body)
            m = h.QUEUED_RE.match(r)
            self.assertTrue(m, r)
            self.assertIn(body, d.spool_data(m.group(1)))


class Aborts(h.SmtpdTestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = h.Smtpd().start()

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()

    def test_premature_end(self):
        with self.d.client() as c:
            c.ehlo()
            c.mail_rcpt_data()
            c.send("Subject: cut\r\n\r\nhalf a message\r\n")
            c.shutdown_wr()
            self.assertEqual(c.reply(), "554 5.6.0 Pre-mature end of <CRLF>.<CRLF>")
            self.assertTrue(c.closed())
        time.sleep(0.2)
        self.assertEqual(self.d.spool_ids(), [])

    def test_premature_end_after_dot_without_crlf(self):
        with self.d.client() as c:
            c.ehlo()
            c.mail_rcpt_data()
            c.send("Subject: cut\r\n\r\nbody\r\n.")
            c.shutdown_wr()
            self.assertEqual(c.reply(), "554 5.6.0 Pre-mature end of <CRLF>.<CRLF>")
        time.sleep(0.2)
        self.assertEqual(self.d.spool_ids(), [])

    def test_connection_reset_during_data(self):
        with self.d.client() as c:
            c.ehlo()
            c.mail_rcpt_data()
            c.send("Subject: reset\r\n\r\n" + "line\r\n" * 1000)
            time.sleep(0.2)
            c.rst()
        self.assertTrue(self.d.wait_log("421 4.4.2 Connection reset during DATA"),
                        "log lacks the line:\n" + self.d.log_text()[-2000:])
        self.assertEqual(self.d.spool_ids(), [])
        self.assertTrue(self.d.alive())
        with self.d.client() as c:
            self.assertEqual(c.cmd("NOOP"), "250 2.0.0 OK")

    def test_nothing_left_behind(self):
        # After the aborted transactions above, no file remains in tmp/ either.
        self.test_premature_end()
        self.test_connection_reset_during_data()
        time.sleep(0.3)
        self.assertEqual(self.d.spool_all_files(), [])


if __name__ == "__main__":
    h.main()
