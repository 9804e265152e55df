"""test_smtpd_memory.py - a 50 MB message streams through: the daemon's peak RSS
(VmHWM) grows by less than 8 MB over its idle baseline, and the bytes are all spooled.
After a burst of 2,000 connections the daemon gives the memory back (RSS within 10 % of
its resting size). Memory checks, not timing checks."""

import hashlib
import os
import resource
import socket
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import smtpd as h  # noqa: E402

MB = 1024 * 1024
GROWTH_KB = 8 * 1024


def body_chunks(total, write=64 * 1024):
    """Yield CRLF text in 64 KB writes totalling `total` bytes (no dot-stuffing needed)."""
    line = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-streaming-test\r\n"
    per = write // len(line)
    block = line * per
    sent = 0
    while sent + len(block) <= total:
        yield block
        sent += len(block)
    rest = total - sent
    if rest:
        yield (line * (rest // len(line) + 1))[:rest - 2] + b"\r\n"


class Memory(h.SmtpdTestCase):
    def stream(self, d, c, total, header=b"Subject: big\r\n\r\n", bdat=False):
        digest = hashlib.sha256(header)
        c.ehlo()
        if bdat:
            c.cmd("MAIL FROM:<a@example.com>")
            c.cmd("RCPT TO:<b@example.com>")
            c.send(b"BDAT %d LAST\r\n" % (len(header) + total) + header)
        else:
            c.mail_rcpt_data()
            c.send(header)
        for chunk in body_chunks(total):
            c.send(chunk)
            digest.update(chunk)
        if not bdat:
            c.send(b".\r\n")
        r = c.reply(timeout=60)
        m = h.QUEUED_RE.match(r)
        self.assertTrue(m, r)
        return m.group(1), digest.hexdigest(), len(header) + total

    def check_spooled(self, d, qid, digest, size):
        files = [p for p in d.spool_files() if qid in p]
        self.assertTrue(files)
        # The message is the last `size` bytes of the spool file (after its header block).
        big = max(files, key=os.path.getsize)
        with open(big, "rb") as f:
            f.seek(os.path.getsize(big) - size)
            got = hashlib.sha256()
            while True:
                b = f.read(MB)
                if not b:
                    break
                got.update(b)
        self.assertEqual(got.hexdigest(), digest, "spooled bytes differ")

    def test_50mb_data_memory_flat(self):
        with h.Smtpd(message_size_limit="60m") as d, d.client() as c:
            # Baseline: warmed up with a small message, then idle.
            c.ehlo()
            self.assertRegex(c.send_message(h.sample_message("warm-up")), h.QUEUED_RE)
            base = d.hwm_kb()
            qid, digest, size = self.stream(d, c, 50 * MB)
            peak = d.hwm_kb()
            self.assertLess(peak - base, GROWTH_KB,
                            "VmHWM grew %d kB over a %d kB baseline for a 50 MB message"
                            % (peak - base, base))
            self.check_spooled(d, qid, digest, size)
            sys.stdout.write("  [memory] DATA: baseline VmHWM %d kB, after 50 MB %d kB (+%d kB)\n"
                             % (base, peak, peak - base))

    def test_50mb_bdat_memory_flat(self):
        with h.Smtpd(message_size_limit="60m") as d, d.client() as c:
            c.ehlo()
            self.assertRegex(c.send_message(h.sample_message("warm-up")), h.QUEUED_RE)
            base = d.hwm_kb()
            qid, digest, size = self.stream(d, c, 50 * MB, bdat=True)
            peak = d.hwm_kb()
            self.assertLess(peak - base, GROWTH_KB,
                            "VmHWM grew %d kB over a %d kB baseline for a 50 MB BDAT chunk"
                            % (peak - base, base))
            self.check_spooled(d, qid, digest, size)
            sys.stdout.write("  [memory] BDAT: baseline VmHWM %d kB, after 50 MB %d kB (+%d kB)\n"
                             % (base, peak, peak - base))

    def test_over_limit_is_not_buffered(self):
        # 30 MB against a 10 MB limit: read to the dot, 552, memory flat, nothing spooled.
        with h.Smtpd(message_size_limit="10m") as d, d.client() as c:
            c.ehlo()
            base = d.hwm_kb()
            c.mail_rcpt_data()
            for chunk in body_chunks(30 * MB):
                c.send(chunk)
            c.send(b".\r\n")
            self.assertEqual(c.reply(timeout=60), "552 5.3.4 Message size exceeds fixed limit")
            self.assertLess(d.hwm_kb() - base, GROWTH_KB)
            self.assertEqual(d.spool_ids(), [])

    def test_memory_given_back_after_a_burst(self):
        # glibc's allocator only: ASan's keeps freed memory on purpose (quarantine).
        with open(h.SMTPD_BIN, "rb") as f:
            if b"__asan_init" in f.read():
                self.skipTest("AddressSanitizer's allocator keeps what is freed")
        n = 2000
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if hard < n + 100:
            self.skipTest("RLIMIT_NOFILE too low for %d connections" % n)
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        conns = []
        try:
            with h.Smtpd(smtpd_max_connections=str(n + 100),
                         smtpd_max_connections_per_ip=str(n + 100)) as d:
                with d.client() as c:
                    c.ehlo()
                    self.assertRegex(c.send_message(h.sample_message("warm-up")), h.QUEUED_RE)
                rest = d.rss_kb()
                for _ in range(n):
                    s = socket.create_connection(("127.0.0.1", d.port), timeout=30)
                    conns.append(s)
                for s in conns:
                    self.assertTrue(s.recv(512).startswith(b"220 "))
                held = d.rss_kb()
                for s in conns:
                    s.close()
                conns = []
                # The sessions end as their EOFs are read: wait for the RSS to come down.
                end = time.time() + 30 * h.SLOW
                while time.time() < end and d.rss_kb() > rest * 1.10:
                    time.sleep(0.2)
                after = d.rss_kb()
                sys.stdout.write("  [memory] burst: rest %d kB, %d connections %d kB, after %d kB "
                                 "(%+.0f%%)\n" % (rest, n, held, after, 100.0 * (after - rest) / rest))
                self.assertGreater(held, rest + n // 2, "the burst did not cost memory: no test")
                self.assertLessEqual(after, rest * 1.10,
                                     "RSS %d kB after the burst, %d kB at rest" % (after, rest))
        finally:
            for s in conns:
                s.close()
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


if __name__ == "__main__":
    h.main()
