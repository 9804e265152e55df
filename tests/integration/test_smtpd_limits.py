"""test_smtpd_limits.py - connection limits, recipient and size limits, the client's
deadlines (command line, data rate, TLS handshake, stress mode), and an unreachable milter."""

import os
import socket
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import smtpd as h  # noqa: E402

TOO_MANY = "421 4.3.2 Too many connections, try again later"
CMD_TIMEOUT = "421 4.4.2 Timeout waiting for the client"
DATA_TIMEOUT = "421 4.4.2 Timeout during DATA"
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
        # A slow but steady client is not cut off: 4 s of trickle with a 2 s timeout,
        # as long as it keeps up the minimum rate (here 10 bytes/s; it sends 16).
        with h.Smtpd(smtpd_data_timeout="2s", smtpd_min_data_rate=10) as d, d.client() as c:
            c.ehlo()
            c.mail_rcpt_data()
            c.send("Subject: trickle\r\n\r\n")
            for i in range(8):
                time.sleep(0.5)
                c.send("line %d\r\n" % i)
            c.send(".\r\n")
            self.assertRegex(c.reply(), h.QUEUED_RE)


def trickle(c, data, every=0.4, limit=30.0):
    """Send data one byte at a time until the server answers or closes.
    Returns (first reply line or "<EOF>", seconds)."""
    t0 = time.monotonic()
    got = b""
    i = 0
    while time.monotonic() - t0 < limit:
        try:
            c.send(data[i % len(data):i % len(data) + 1])
        except (BrokenPipeError, ConnectionResetError):
            got += b"<EOF>"
            break
        i += 1
        got += c.pending(wait=every)
        if b"\r\n" in got or b"<EOF>" in got:
            break
    line = got.split(b"\r\n")[0] if b"\r\n" in got else got
    return line.decode("ascii", "replace"), time.monotonic() - t0


class Deadlines(h.SmtpdTestCase):
    """Issue 23.2: bytes do not extend a deadline, so slow clients cannot hold slots."""

    def test_command_line_trickle_is_cut(self):
        # One byte every 0.4 s of a line that never ends: the old idle timer was reset
        # by each byte and never fired.
        with h.Smtpd(smtpd_command_timeout="2s") as d, d.client() as c:
            line, t = trickle(c, b"NOOPNOOPNOOP")
            self.assertEqual(line, CMD_TIMEOUT)
            self.assertGreaterEqual(t, 1.5)
            self.assertLess(t, 6.0)
            self.assertTrue(d.alive())

    def test_deadline_counts_from_the_previous_reply(self):
        with h.Smtpd(smtpd_command_timeout="2s") as d, d.client() as c:
            for _ in range(3):      # whole commands in time: each reply gives 2 s again
                time.sleep(1.0)
                self.assertEqual(c.cmd("NOOP"), "250 2.0.0 OK")
            c.send("NO")
            time.sleep(1.0)
            c.send("O")
            self.assertEqual(c.reply(timeout=5), CMD_TIMEOUT)

    def test_data_below_min_rate_is_cut(self):
        # 10 bytes every 0.3 s is 33 bytes/s, under the 500 bytes/s default: bytes keep
        # arriving, yet the transfer is cut near smtpd_data_timeout.
        with h.Smtpd(smtpd_data_timeout="2s", smtpd_command_timeout="60s") as d, \
                d.client() as c:
            c.ehlo()
            c.mail_rcpt_data()
            t0 = time.monotonic()
            got = b""
            while time.monotonic() - t0 < 20 and b"\r\n" not in got:
                try:
                    c.send("trickle..\n".replace("\n", "\r\n"))
                except (BrokenPipeError, ConnectionResetError):
                    break
                got += c.pending(wait=0.3)
            t = time.monotonic() - t0
            self.assertEqual(got.split(b"\r\n")[0].decode(), DATA_TIMEOUT)
            self.assertLess(t, 6.0)
            time.sleep(0.2)
            self.assertEqual(d.spool_files(), [])

    def test_data_at_min_rate_goes_through(self):
        # Bytes at the rate earn their time: 1,000 bytes every 0.5 s (2,000 bytes/s)
        # for 4 s with a 1 s timeout and a 1,000 bytes/s minimum.
        with h.Smtpd(smtpd_data_timeout="1s", smtpd_min_data_rate=1000) as d, d.client() as c:
            c.ehlo()
            c.mail_rcpt_data()
            c.send("Subject: steady\r\n\r\n")
            for i in range(8):
                time.sleep(0.5)
                c.send(("%04d" % i) + "x" * 994 + "\r\n")
            c.send(".\r\n")
            self.assertRegex(c.reply(), h.QUEUED_RE)

    def test_tls_handshake_trickle_is_cut(self):
        # A ClientHello one byte every 0.4 s, after STARTTLS and on the implicit-TLS port.
        hello = bytes.fromhex("16030100c8010000c40303") + b"\x00" * 200
        with h.Smtpd(tls=True, tls_listen=True, smtpd_tls_handshake_timeout="2s",
                     smtpd_command_timeout="60s") as d:
            with d.client() as c:
                c.ehlo()
                self.assertEqual(c.cmd("STARTTLS"), "220 2.0.0 Ready to start TLS")
                line, t = trickle(c, hello)
                # Dropped without an SMTP reply (GnuTLS may say goodbye with an alert record).
                self.assertTrue(line.endswith("<EOF>") and "\r\n" not in line, line)
                self.assertLess(t, 6.0)
            s = socket.create_connection(("127.0.0.1", d.tls_port), 10)
            try:
                c = h.Client.__new__(h.Client)
                c.sock, c.buf, c.timeout = s, b"", 10
                line, t = trickle(c, hello)
                self.assertTrue(line.endswith("<EOF>") and "\r\n" not in line, line)
                self.assertGreaterEqual(t, 1.5)
                self.assertLess(t, 6.0)
            finally:
                s.close()
            self.assertTrue(d.wait_log("TLS handshake not done in time, dropped"))

    def test_tricklers_cannot_hold_every_slot(self):
        # The attack on a small scale: every slot taken by a trickler; new
        # clients are refused until the deadline frees the slots, then get in.
        with h.Smtpd(smtpd_max_connections=6, smtpd_stress_threshold=0,
                     smtpd_command_timeout="3s") as d:
            slow = [d.client() for _ in range(6)]
            try:
                for c in slow:
                    c.send("N")
                with d.client() as c:
                    self.assertEqual(c.banner, TOO_MANY)
                t0 = time.monotonic()
                done = set()
                while len(done) < len(slow) and time.monotonic() - t0 < 15:
                    for i, c in enumerate(slow):
                        if i in done:
                            continue
                        try:
                            c.send("O")
                        except (BrokenPipeError, ConnectionResetError):
                            done.add(i)
                            continue
                        if b"\r\n" in c.pending(wait=0.05):
                            done.add(i)
                    time.sleep(0.3)
                self.assertEqual(len(done), 6, "tricklers still connected after 15 s")
                self.assertLess(time.monotonic() - t0, 8.0)
                deadline = time.monotonic() + 5
                while True:
                    with d.client() as c:
                        if c.banner.startswith("220 ") or time.monotonic() > deadline:
                            self.assertTrue(c.banner.startswith("220 "), c.banner)
                            self.assertEqual(c.cmd("QUIT"), "221 2.0.0 Bye")
                            break
                    time.sleep(0.1)
            finally:
                for c in slow:
                    c.close()

    def test_stress_mode_cuts_idle_sessions(self):
        # Half of 10 slots in use: stress mode; the idle sessions' 60 s deadline
        # becomes 2 s at once, and leaves when the count drops.
        with h.Smtpd(smtpd_max_connections=10, smtpd_stress_threshold=50,
                     smtpd_stress_timeout="2s", smtpd_command_timeout="60s") as d:
            idle = [d.client() for _ in range(4)]
            try:
                for c in idle:
                    self.assertEqual(c.cmd("NOOP"), "250 2.0.0 OK")
                self.assertFalse(idle[0].pending(wait=2.5), "cut before stress mode")
                t0 = time.monotonic()
                fifth = d.client()
                self.assertTrue(d.wait_log("stress mode on: 5 connections of 10"))
                for c in idle + [fifth]:
                    self.assertEqual(c.reply(timeout=10), CMD_TIMEOUT)
                self.assertLess(time.monotonic() - t0, 6.0)
                fifth.close()
                self.assertTrue(d.wait_log("stress mode off", timeout=10))
            finally:
                for c in idle:
                    c.close()


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
