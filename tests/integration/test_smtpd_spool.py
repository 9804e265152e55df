"""test_smtpd_spool.py - durability (kill -9 right after 250), leftovers after a crash,
a spool that cannot create files, SIGTERM, and the IPv6 listener."""

import os
import signal
import socket
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import smtpd as h  # noqa: E402


class Durability(h.SmtpdTestCase):
    def test_kill9_right_after_250(self):
        body = (b"From: a@example.com\r\nTo: b@example.com\r\nSubject: durable\r\n\r\n" +
                b"".join(b"durable line %07d ..............................................\r\n" % i
                         for i in range(30000)))
        self.assertGreater(len(body), 2000000)
        d = h.Smtpd()
        with d:
            c = d.client()
            c.ehlo()
            c.mail_rcpt_data("durable-sender@example.com", ("durable-rcpt@example.net",))
            c.send(h.dot_stuff(body) + b".\r\n")
            r = c.reply()
            d.kill9()                       # no time for anything after the reply
            m = h.QUEUED_RE.match(r)
            self.assertTrue(m, r)
            qid = m.group(1)
            self.assertIn(qid, d.spool_ids())
            data = d.spool_data(qid)
            self.assertIn(body, data)
            self.assertIn(b"durable-sender@example.com", data)
            self.assertIn(b"durable-rcpt@example.net", data)
            c.close()

    def test_kill9_mid_data_leaves_nothing_after_restart(self):
        d = h.Smtpd()
        with d:
            c = d.client()
            c.ehlo()
            c.mail_rcpt_data()
            c.send(b"Subject: torn\r\n\r\n" + b"torn line\r\n" * 50000)
            time.sleep(0.3)
            d.kill9()
            c.close()
            self.assertEqual(d.spool_ids(), [])
            d.start()                       # same spool: stale tmp files are cleaned
            with d.client() as c2:
                c2.ehlo()
                m = h.QUEUED_RE.match(c2.send_message(h.sample_message("after crash")))
                self.assertTrue(m)
            self.assertEqual(d.spool_ids(), [m.group(1)])
            self.assertEqual([p for p in d.spool_all_files() if m.group(1) not in p], [])


def cpu_seconds(pid):
    """User + system CPU time of a process so far."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class SpoolFull(h.SmtpdTestCase):
    """Issue 22.1: a spool that cannot create files (no inodes) gives 4xx, never a busy
    loop or a flood of log lines, and service resumes by itself when space returns."""

    def setUp(self):
        if os.geteuid() != 0:
            self.skipTest("mounting a small tmpfs needs root")

    def test_no_inodes_then_space_returns(self):
        d = h.Smtpd()
        # Root, tmp/ and new/ take three inodes: one is left for message files.
        # Mode 0750: postern-smtpd refuses a spool others may write (tmpfs's default is 1777).
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m,nr_inodes=4,mode=0750", "tmpfs",
                        d.spool], check=True)
        try:
            with d:
                time.sleep(1.0)
                cpu0 = cpu_seconds(d.pid)
                time.sleep(3.0)
                busy = cpu_seconds(d.pid) - cpu0
                self.assertLess(busy, 0.5, "%.2f s of CPU in 3 s with no client" % busy)
                log = d.log_text()
                self.assertLessEqual(log.count("spool: create in"), 2, log[-2000:])
                self.assertLess(len(log), 20000)
                got = []
                for i in range(4):
                    # The 421 comes at DATA (no file for the message) or at its end.
                    with d.client() as c:
                        c.ehlo()
                        self.assertEqual(c.cmd("MAIL FROM:<a@example.com>"),
                                         "250 2.1.0 Sender <a@example.com> OK")
                        self.assertEqual(c.cmd("RCPT TO:<b@example.com>"),
                                         "250 2.1.5 Recipient <b@example.com> OK")
                        r = c.cmd("DATA")
                        if r.startswith("354"):
                            c.send(h.dot_stuff(h.sample_message("full %d" % i)) + b".\r\n")
                            r = c.reply()
                        got.append(r)
                        if not h.QUEUED_RE.match(r):
                            break
                self.assertEqual(got[-1], "421 4.3.0 Mail system failure, closing transmission channel",
                                 got)
                queued = [r for r in got if h.QUEUED_RE.match(r)]
                self.assertEqual(len(d.spool_files()), len(queued))
                self.assertEqual([p for p in d.spool_all_files() if "/new/" not in p], [])
                self.assertTrue(d.alive())
                # Space returns: the next message is queued, and the log says so once.
                subprocess.run(["mount", "-o", "remount,nr_inodes=1000", d.spool], check=True)
                with d.client() as c:
                    c.ehlo()
                    self.assertRegex(c.send_message(h.sample_message("space again")),
                                     h.QUEUED_RE)
                self.assertTrue(d.wait_log("spool: files can be created in", timeout=10))
                self.assertEqual(len(d.spool_files()), len(queued) + 1)
        finally:
            subprocess.run(["umount", "-l", d.spool])


class Signals(h.SmtpdTestCase):
    def test_sigterm_with_idle_connection_exits_0(self):
        d = h.Smtpd()
        with d:
            c = d.client()
            c.ehlo()
            t0 = time.monotonic()
            rc = d.stop(signal.SIGTERM, grace=10)
            self.assertEqual(rc, 0, d.log_text()[-2000:])
            self.assertLess(time.monotonic() - t0, 5.5)
            # The client hears the shutdown line or just the close, nothing else.
            rest = c.pending(1.0)
            self.assertIn(rest, (b"<EOF>", (h.reply_line("R_SHUTDOWN") + "\r\n<EOF>").encode()), rest)
            c.close()

    def test_sigterm_finishes_message_in_flight(self):
        d = h.Smtpd()
        with d:
            c = d.client()
            c.ehlo()
            c.mail_rcpt_data()
            c.send(b"Subject: in flight\r\n\r\npart one\r\n")
            time.sleep(0.2)
            d.signal(signal.SIGTERM)
            time.sleep(0.3)
            try:
                c.send(b"part two\r\n.\r\n")
                r = c.reply()
            except (EOFError, OSError):
                r = "<EOF>"
            # Either finished (250, spooled) or tempfailed (4xx, nothing spooled); never lost after 250.
            if h.QUEUED_RE.match(r):
                self.assertIn(h.QUEUED_RE.match(r).group(1), d.spool_ids())
            else:
                self.assertTrue(r.startswith("4") or r == "<EOF>", r)
                self.assertEqual(d.spool_ids(), [])
            d.proc.wait(10)
            self.assertEqual(d.stop(), 0)
            c.close()


class Ipv6(h.SmtpdTestCase):
    def test_ipv6_listener(self):
        if not h.ipv6_available():
            self.skipTest("::1 is not available on this machine")
        with h.Smtpd(ipv6=True) as d:
            with h.Client(d.port6, host="::1", family=socket.AF_INET6) as c:
                self.assertTrue(c.banner.startswith("220 " + h.HOSTNAME), c.banner)
                c.ehlo()
                m = h.QUEUED_RE.match(c.send_message(h.sample_message("ipv6")))
                self.assertTrue(m)
            data = d.spool_data(m.group(1))
            self.assertIn(b"::1", data)        # the client address is recorded
            with d.client() as c:              # and IPv4 still works beside it
                self.assertEqual(c.cmd("NOOP"), "250 2.0.0 OK")


if __name__ == "__main__":
    h.main()
