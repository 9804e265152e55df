"""test_smtpd_limits.py - connection limits, recipient and size limits, both timeouts,
and an unreachable milter."""

import os
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import smtpd as h  # noqa: E402

TOO_MANY = "421 4.3.2 Too many connections, try again later"
PER_IP = "421 4.3.2 Client connection limit reached"
SIZE = "552 5.3.4 Message size exceeds fixed limit"


class Connections(h.SmtpdTestCase):
    def test_total_connection_limit(self):
        with h.Smtpd(smtpd_max_connections=2) as d:
            c1, c2 = d.client(), d.client()
            self.assertTrue(c1.banner.startswith("220 "), c1.banner)
            self.assertTrue(c2.banner.startswith("220 "), c2.banner)
            c3 = d.client()
            self.assertEqual(c3.banner, TOO_MANY)
            self.assertTrue(c3.closed(), "third connection not closed: %r" % c3.leftover)
            c3.close()
            # The first two are unaffected; once one leaves, a new one is welcome.
            self.assertEqual(c1.cmd("NOOP"), "250 2.0.0 OK")
            self.assertEqual(c2.cmd("QUIT"), "221 2.0.0 Bye")
            c2.close()
            banner = None
            for _ in range(50):
                with d.client() as c4:
                    banner = c4.banner
                if banner.startswith("220 "):
                    break
                time.sleep(0.1)
            self.assertTrue(banner.startswith("220 " + h.HOSTNAME), banner)
            c1.close()

    def test_per_ip_limit(self):
        with h.Smtpd(smtpd_max_connections_per_ip=1) as d:
            c1 = d.client()
            self.assertTrue(c1.banner.startswith("220 "), c1.banner)
            c2 = d.client()
            self.assertEqual(c2.banner, PER_IP)
            self.assertTrue(c2.closed())
            c2.close()
            self.assertEqual(c1.cmd("NOOP"), "250 2.0.0 OK")
            c1.cmd("QUIT")
            c1.close()
            banner = None
            for _ in range(50):
                with d.client() as c3:
                    banner = c3.banner
                if banner.startswith("220 "):
                    break
                time.sleep(0.1)
            self.assertTrue(banner.startswith("220 " + h.HOSTNAME), banner)

    def test_rejected_connections_do_not_leak_slots(self):
        with h.Smtpd(smtpd_max_connections=3, smtpd_max_connections_per_ip=1) as d:
            keep = d.client()
            for _ in range(20):
                with d.client() as c:
                    self.assertEqual(c.banner, PER_IP)
                    self.assertTrue(c.closed())
            self.assertEqual(keep.cmd("QUIT"), "221 2.0.0 Bye")
            keep.close()
            time.sleep(0.2)
            with d.client() as c:
                self.assertTrue(c.banner.startswith("220 "), c.banner)


class Transaction(h.SmtpdTestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = h.Smtpd(smtpd_max_recipients=2, message_size_limit="10k").start()

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()

    def test_too_many_recipients_then_rset(self):
        with self.d.client() as c:
            c.ehlo()
            c.cmd("MAIL FROM:<a@example.com>")
            self.assertEqual(c.cmd("RCPT TO:<r1@example.com>"), "250 2.1.5 Recipient <r1@example.com> OK")
            self.assertEqual(c.cmd("RCPT TO:<r2@example.com>"), "250 2.1.5 Recipient <r2@example.com> OK")
            self.assertEqual(c.cmd("RCPT TO:<r3@example.com>"), "452 4.5.3 Too many recipients")
            self.assertEqual(c.cmd("RCPT TO:<r4@example.com>"), "452 4.5.3 Too many recipients")
            # The two accepted recipients still make a message.
            self.assertEqual(c.cmd("DATA"), "354 End data with <CR><LF>.<CR><LF>")
            c.send(h.dot_stuff(h.sample_message("two rcpts")) + b".\r\n")
            self.assertRegex(c.reply(), h.QUEUED_RE)
            # The count is per transaction.
            c.cmd("MAIL FROM:<a@example.com>")
            self.assertEqual(c.cmd("RCPT TO:<r5@example.com>"), "250 2.1.5 Recipient <r5@example.com> OK")

    def test_size_at_mail(self):
        with self.d.client() as c:
            c.ehlo()
            self.assertEqual(c.cmd("MAIL FROM:<a@example.com> SIZE=10241"), SIZE)
            self.assertEqual(c.cmd("MAIL FROM:<a@example.com> SIZE=10240"), "250 2.1.0 Sender <a@example.com> OK")

    def test_size_during_data_read_to_the_dot(self):
        before = len(self.d.spool_files())
        with self.d.client() as c:
            c.ehlo()
            c.mail_rcpt_data()
            # 20 KB of body whose lines look like commands: none may be answered.
            body = b"Subject: big\r\n\r\n" + b"".join(b"NOOP %05d\r\nRSET\r\nQUIT\r\n" % i for i in range(800))
            self.assertGreater(len(body), 12000)
            c.send(body)
            self.assertEqual(c.pending(0.5), b"", "replied before the final dot")
            c.send(".\r\n")
            self.assertEqual(c.reply(), SIZE)
            self.assertEqual(c.cmd("NOOP"), "250 2.0.0 OK")
            self.assertEqual(c.pending(0.3), b"")
            # The session goes on normally.
            self.assertRegex(c.send_message(h.sample_message("small")), h.QUEUED_RE)
        self.assertEqual(len(self.d.spool_files()), before + 1)

    def test_size_exact_limit_accepted(self):
        # The limit counts message bytes (unstuffed, with CRLFs); 10240 bytes exactly pass.
        body = b"Subject: exact\r\n\r\n"
        line = b"x" * 98 + b"\r\n"
        while len(body) + len(line) <= 10240:
            body += line
        body += b"y" * (10240 - len(body) - 2) + b"\r\n"
        self.assertEqual(len(body), 10240)
        with self.d.client() as c:
            c.ehlo()
            r = c.send_message(body)
            m = h.QUEUED_RE.match(r)
            self.assertTrue(m, r)
            self.assertIn(body, self.d.spool_data(m.group(1)))


class Timeouts(h.SmtpdTestCase):
    def test_command_timeout(self):
        with h.Smtpd(smtpd_command_timeout="2s") as d, d.client() as c:
            c.ehlo()
            t0 = time.monotonic()
            self.assertEqual(c.reply(timeout=10), "421 4.4.2 Timeout waiting for the client")
            self.assertGreaterEqual(time.monotonic() - t0, 1.5)
            self.assertTrue(c.closed())

    def test_data_timeout(self):
        with h.Smtpd(smtpd_data_timeout="2s", smtpd_command_timeout="60s") as d, d.client() as c:
            c.ehlo()
            c.mail_rcpt_data()
            c.send("Subject: slow\r\n\r\npart one\r\n")
            self.assertEqual(c.reply(timeout=10), "421 4.4.2 Timeout during DATA")
            self.assertTrue(c.closed())
            time.sleep(0.2)
            self.assertEqual(d.spool_files(), [])

    def test_data_timeout_is_idle_time(self):
        # A slow but steady client is not cut off: 4 s of trickle with a 2 s idle timeout.
        with h.Smtpd(smtpd_data_timeout="2s") as d, d.client() as c:
            c.ehlo()
            c.mail_rcpt_data()
            c.send("Subject: trickle\r\n\r\n")
            for i in range(8):
                time.sleep(0.5)
                c.send("line %d\r\n" % i)
            c.send(".\r\n")
            self.assertRegex(c.reply(), h.QUEUED_RE)


class Milter(h.SmtpdTestCase):
    def test_unreachable_milter(self):
        closed = h.free_port()
        with h.Smtpd(smtpd_milters="inet:127.0.0.1:%d" % closed) as d:
            with d.client(banner=False) as c:
                steps = [None, "EHLO client.example", "MAIL FROM:<a@example.com>",
                         "RCPT TO:<b@example.com>", "DATA", "__BODY__"]
                got = []
                for s in steps:
                    if s == "__BODY__":
                        c.send(h.dot_stuff(h.sample_message("milter down")) + b".\r\n")
                    elif s is not None:
                        c.send(s + "\r\n")
                    try:
                        r = c.reply()
                    except EOFError:
                        self.fail("closed without the 421 line after %r; replies %r" % (s, got))
                    got.append(r)
                    if r.startswith("421"):
                        break
                    self.assertTrue(r[0] in "23", "unexpected reply %r to %r" % (r, s))
                    self.assertFalse(r.startswith("250 2.6.0"), got)
                self.assertEqual(got[-1], "421 4.3.2 Service not available", got)
                self.assertTrue(c.closed(), "not closed after 421: %r" % c.leftover)
            time.sleep(0.2)
            self.assertEqual(d.spool_files(), [])
            self.assertTrue(d.alive())


if __name__ == "__main__":
    h.main()
