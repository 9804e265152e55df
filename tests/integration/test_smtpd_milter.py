"""test_smtpd_milter.py - postern-smtpd as the MTA side of the milter protocol.

(a) the content-rule corpus (tests/corpus/expected.txt) through postern-smtpd +
    postern-milter gives the exact reply lines Postfix + postern-milter gives;
(b) OpenDKIM, a milter nobody here wrote, signs behind postern-smtpd, and a
    second OpenDKIM (verify mode, TestPublicKeys) behind a second postern-smtpd
    finds the spooled signature valid (dkim=pass); with the client not internal it signs
    only authenticated submissions, told by the {auth_*} macros;
(c) failures under milter_default_action = tempfail: the milter killed
    mid-DATA, stopped (SIGSTOP) past milter_timeout, or speaking garbage give
    exactly "421 4.3.2 Service not available", the connection closed, nothing
    spooled; the next session after the milter is back is served;
(d) milter_default_action = accept with the milter down: the message is queued;
(e) verdicts and edits of a libmilter test filter (tests/unit/milters/test_filter):
    multi-line reply verbatim, discard, a refused recipient, header/envelope
    edits and quarantine, a replaced body, all as spooled;
(f) the usual deployment, postern-milter (over [::1], connection reused) then
    OpenDKIM (unix socket) in one smtpd_milters list: refusals exact and
    unsigned, accepted messages signed.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import smtpd as h  # noqa: E402
import postfix  # noqa: E402  (Milter: a milter process with its own config)

MILTER_BIN = os.path.join(h.TOP_BUILDDIR, "milter", "postern-milter")
CHECK_BIN = os.path.join(h.TOP_BUILDDIR, "tools", "postern-check")
BLOCKDOMAIN = os.path.join(h.TOP_BUILDDIR, "tests", "unit", "modules", "blockdomain.so")
CORPUS = os.path.join(h.TOP_SRCDIR, "tests", "corpus")
CORPUS_PASSWORD = "corpus-password"
UNAVAILABLE = "421 4.3.2 Service not available"
OPENDKIM = shutil.which("opendkim") or "/usr/sbin/opendkim"
TEST_FILTER = os.path.join(h.TOP_BUILDDIR, "tests", "unit", "milters", "test_filter")
GENKEY = shutil.which("opendkim-genkey") or "/usr/sbin/opendkim-genkey"


def start_milter(port, **settings):
    base = {"milter_listen": "inet:127.0.0.1:%d" % port, "milter_user": ""}
    base.update(settings)
    m = postfix.Milter(MILTER_BIN, base, name="smtpd-milter")
    return m.start(wait_port_num=port)


def stat_fields(path):
    """The fields of a /proc/.../stat file after the command name (field 3 on: state)."""
    with open(path) as f:
        return f.read().rsplit(")", 1)[1].split()


def sigstop(proc, timeout=10.0):
    """SIGSTOP proc and wait until every thread of it is stopped. kill() wakes one
    thread, which stops the others when it next runs: on a loaded machine the rest
    (libmilter's listener and workers) may serve a connection or two meanwhile."""
    proc.send_signal(signal.SIGSTOP)
    tasks = "/proc/%d/task" % proc.pid
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        states = []
        for tid in os.listdir(tasks):
            try:
                states.append(stat_fields(os.path.join(tasks, tid, "stat"))[0])
            except FileNotFoundError:
                pass        # a thread that ended meanwhile
        if states and all(st in "Tt" for st in states):
            return
        time.sleep(0.01)
    raise AssertionError("pid %d not stopped after %.0f s" % (proc.pid, timeout))


def transact(d, sender, data, account=None, password=CORPUS_PASSWORD):
    """One transaction on a new connection: (stage, reply line) of the last reply;
    stage is "mail", "rcpt" or "data"."""
    with d.client() as c:
        c.ehlo()
        if account:
            r = c.cmd("AUTH PLAIN " + h.plain_b64(account, password))
            if not r.startswith("235"):
                return ("auth", r)
        r = c.cmd("MAIL FROM:<%s>" % ("" if sender == "<>" else sender))
        if not r.startswith("250"):
            return ("mail", r)
        r = c.cmd("RCPT TO:<rcpt@example.net>")
        if not r.startswith("250"):
            return ("rcpt", r)
        r = c.cmd("DATA")
        if not r.startswith("354"):
            return ("data", r)
        c.send(h.dot_stuff(data) + b".\r\n")
        r = c.reply(timeout=30)
        c.send("QUIT\r\n")
        return ("data", r)


def queue_one(test, d, sender, data, account=None):
    """One transaction that must be queued: its reply line and the one spool file it added."""
    before = set(d.spool_files())
    reply = transact(d, sender, data, account)[1]
    test.assertRegex(reply, h.QUEUED_RE)
    (new,) = set(d.spool_files()) - before
    return reply, new


def spool_env(path):
    """The envelope lines of a spool file that milters can change: sender, rcpt, quarantine."""
    with open(path, "rb") as f:
        head = f.read().split(b"\n\n", 1)[0].decode()
    return [ln for ln in head.split("\n") if ln.split(" ")[0] in ("sender", "rcpt", "quarantine")]


def crlf(data):
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def message(subject="Hello"):
    return ("From: <alice@example.com>\r\nTo: <rcpt@example.net>\r\nSubject: %s\r\n"
            "Date: Thu, 1 Jan 2026 00:00:00 +0000\r\nMessage-ID: <m%d@example.com>\r\n\r\n"
            "Hi there.\r\n" % (subject, time.monotonic_ns())).encode()


def spooled_message(path):
    """The message part of a spool file (after the header block's empty line)."""
    with open(path, "rb") as f:
        data = f.read()
    return data.split(b"\n\n", 1)[1]


class Corpus(h.SmtpdTestCase):
    def test_corpus_same_replies_as_postfix(self):
        port = h.free_port()
        accounts = os.path.join(CORPUS, "accounts")
        m = start_milter(port, policy_subject_max_length="255", accounts_file=accounts)
        try:
            with h.Smtpd(smtpd_milters="inet:127.0.0.1:%d" % port, accounts_file=accounts,
                         milter_reuse="yes") as d:
                with open(os.path.join(CORPUS, "expected.txt")) as f:
                    rows = [ln.rstrip("\n") for ln in f if ln.strip() and not ln.startswith("#")]
                self.assertGreaterEqual(len(rows), 16)
                failures, accepted = [], 0
                for row in rows:
                    name, sender, account, want = row.split("|", 3)
                    with open(os.path.join(CORPUS, name), "rb") as f:
                        data = crlf(f.read())
                    stage, got = transact(d, sender, data, account or None)
                    if want == "accept":
                        ok = stage == "data" and h.QUEUED_RE.match(got) is not None
                        accepted += ok
                    else:
                        ok = got == want
                    if not ok:
                        failures.append("%s: want %r, got %r at %s" % (name, want, got, stage))
                self.assertEqual(failures, [])
                time.sleep(0.2)
                self.assertEqual(len(d.spool_files()), accepted)
                # One session after another: one milter connection, reused by every
                # later session (SMFIC_QUIT_NC, milter_reuse), as the shutdown line counts.
                self.assertEqual(d.stop(), 0)
                self.assertIn("milter connections: 1 opened, %d sessions on a reused one"
                              % (len(rows) - 1), d.log_text())
        finally:
            rc = m.stop()
        # 0 also means no report from the sanitizers or MILTER_WRAPPER=valgrind.
        self.assertEqual(rc, 0, m.log()[-4000:])


class Failures(h.SmtpdTestCase):
    def assert_unavailable(self, d, c, after, spooled):
        r = c.reply(timeout=20)
        self.assertEqual(r, UNAVAILABLE, "after %s" % after)
        self.assertTrue(c.closed(), "not closed after 421: %r" % c.leftover)
        time.sleep(0.2)
        self.assertEqual(d.spool_files(), spooled)
        self.assertEqual([p for p in d.spool_all_files() if "/new/" not in p], [])

    def test_killed_mid_data_then_next_session(self):
        port = h.free_port()
        m = start_milter(port)
        try:
            with h.Smtpd(smtpd_milters="inet:127.0.0.1:%d" % port, milter_timeout="5s") as d:
                self.assertRegex(transact(d, "alice@example.com", message())[1], h.QUEUED_RE)
                before = d.spool_files()
                self.assertEqual(len(before), 1)
                with d.client() as c:
                    c.ehlo()
                    c.mail_rcpt_data(sender="alice@example.com", rcpts=("rcpt@example.net",))
                    c.send(message()[:60])
                    time.sleep(0.3)
                    m.proc.kill()
                    m.proc.wait()
                    c.send(b"more text\r\n" * 100 + b".\r\n")
                    self.assert_unavailable(d, c, "the milter died", before)
                m = start_milter(port)
                self.assertRegex(transact(d, "alice@example.com", message())[1], h.QUEUED_RE)
                self.assertEqual(len(d.spool_files()), 2)
        finally:
            rc = m.stop()
        self.assertEqual(rc, 0, m.log()[-4000:])

    def test_stopped_milter_times_out(self):
        port = h.free_port()
        m = start_milter(port)
        try:
            with h.Smtpd(smtpd_milters="inet:127.0.0.1:%d" % port, milter_timeout="2s") as d:
                sigstop(m.proc)
                t0 = time.monotonic()
                with d.client() as c:
                    c.ehlo()
                    got = [c.cmd("MAIL FROM:<alice@example.com>")]
                    if got[-1].startswith("250"):
                        got.append(c.cmd("RCPT TO:<rcpt@example.net>"))
                    if got[-1].startswith("250"):
                        got.append(c.cmd("DATA", timeout=20))
                    self.assertEqual(got[-1], UNAVAILABLE, got)
                    self.assertTrue(c.closed(), "not closed after 421: %r" % c.leftover)
                self.assertLess(time.monotonic() - t0, 15)
                self.assertEqual(d.spool_files(), [])
                m.proc.send_signal(signal.SIGCONT)
                self.assertRegex(transact(d, "alice@example.com", message())[1], h.QUEUED_RE)
        finally:
            m.proc.send_signal(signal.SIGCONT)
            rc = m.stop()
        self.assertEqual(rc, 0, m.log()[-4000:])

    def test_garbage_speaking_milter(self):
        srv = socket.socket()
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        srv.bind(("127.0.0.1", 0))
        srv.listen(16)
        port = srv.getsockname()[1]
        stop = threading.Event()

        def junk():
            srv.settimeout(0.2)
            while not stop.is_set():
                try:
                    conn, _ = srv.accept()
                except socket.timeout:
                    continue
                try:
                    conn.settimeout(1)
                    try:
                        conn.recv(4096)
                    except socket.timeout:
                        pass
                    conn.sendall(b"\x00\x00\x00\x05Zjunk" + b"garbage that is no milter packet")
                    time.sleep(0.5)
                except OSError:
                    pass
                conn.close()

        th = threading.Thread(target=junk, daemon=True)
        th.start()
        try:
            with h.Smtpd(smtpd_milters="inet:127.0.0.1:%d" % port, milter_timeout="5s") as d:
                with d.client() as c:
                    c.ehlo()
                    got = [c.cmd("MAIL FROM:<alice@example.com>")]
                    if got[-1].startswith("250"):
                        got.append(c.cmd("RCPT TO:<rcpt@example.net>"))
                    if got[-1].startswith("250"):
                        got.append(c.cmd("DATA", timeout=20))
                    self.assertEqual(got[-1], UNAVAILABLE, got)
                    self.assertTrue(c.closed(), "not closed after 421: %r" % c.leftover)
                self.assertEqual(d.spool_files(), [])
        finally:
            stop.set()
            th.join()
            srv.close()

    def test_default_accept_with_milter_down(self):
        port = h.free_port()
        with h.Smtpd(smtpd_milters="inet:127.0.0.1:%d" % port,
                     milter_default_action="accept") as d:
            stage, got = transact(d, "alice@example.com", message())
            self.assertRegex(got, h.QUEUED_RE)
            self.assertEqual(len(d.spool_files()), 1)


class Verdicts(h.SmtpdTestCase):
    """One test filter process per mode on a unix socket."""

    def filter(self, mode, record=None):
        if not os.access(TEST_FILTER, os.X_OK):
            self.fail("%s not built (make check builds it)" % TEST_FILTER)
        tmp = tempfile.mkdtemp(prefix="postern-tf-")
        sock = os.path.join(tmp, "f.sock")
        p = subprocess.Popen([TEST_FILTER, "-p", "unix:" + sock, "-m", mode] +
                             (["-o", record] if record else []),
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(200):
            if os.path.exists(sock):
                break
            time.sleep(0.05)
        self.addCleanup(shutil.rmtree, tmp, True)
        self.addCleanup(self.stop_filter, p, sock)
        return "unix:" + sock

    @staticmethod
    def stop_filter(p, sock):
        """SIGTERM, then a connection to wake libmilter's accept loop, which otherwise
        notices the stop only at its next 5 s poll timeout (5 s a test, before)."""
        p.terminate()
        for _ in range(100):
            postfix.wait_port(sock, timeout=0.1, proc=p)    # one connection is the wake-up
            try:
                p.wait(timeout=0.1)
                return
            except subprocess.TimeoutExpired:
                pass
        p.kill()
        p.wait()

    def helo_macros(self, ask_ccert, client_cert):
        """The HELO-stage macros the filter is told after STARTTLS with or without a
        client certificate (CN "client.test"), with smtpd_tls_ask_ccert on or off."""
        tmp = tempfile.mkdtemp(prefix="postern-cc-")
        self.addCleanup(shutil.rmtree, tmp, True)
        record = os.path.join(tmp, "record")
        with h.Smtpd(tls=True, smtpd_require_auth="no", smtpd_tls_ask_ccert=ask_ccert,
                     smtpd_milters=self.filter("record", record)) as d, d.client() as c:
            ctx = h.client_ctx()
            if client_cert:
                ctx.load_cert_chain(*h.make_cert(tmp, cn="client.test"))
            c.ehlo()
            c.starttls(ctx)
            self.assertTrue(c.ehlo()[-1].startswith("250 "))
            self.assertEqual(c.cmd("QUIT"), h.reply_line("R_BYE"))
        time.sleep(0.3)
        with open(record) as f:
            return [ln.rstrip("\n") for ln in f if ln.startswith("M H ")]

    def test_client_certificate_macros(self):
        got = self.helo_macros("yes", True)
        self.assertIn("M H {cert_subject}=client.test", got)
        self.assertIn("M H {cert_issuer}=client.test", got)     # self-signed
        self.assertIn("M H {tls_version}=TLSv1.3", got)
        # Asked, none presented; or presented but not asked for: no such macros.
        for ask, cert in (("yes", False), ("no", True)):
            got = self.helo_macros(ask, cert)
            self.assertIn("M H {tls_version}=TLSv1.3", got)
            self.assertFalse([m for m in got if "{cert_" in m], (ask, cert, got))

    def test_helo_refusal_holds_for_the_session(self):
        """A milter refusing HELO: that reply answers the EHLO and every later command a
        milter would see (MAIL, EHLO again), as Postfix does; nothing is spooled."""
        tmp = tempfile.mkdtemp(prefix="postern-he-")
        self.addCleanup(shutil.rmtree, tmp, True)
        record = os.path.join(tmp, "record")
        refused = h.reply_line("R_POLICY_REJECT")
        with h.Smtpd(smtpd_milters=self.filter("reject_helo", record)) as d, d.client() as c:
            self.assertEqual(c.cmd("EHLO bad.example"), refused)
            self.assertEqual(c.cmd("MAIL FROM:<alice@example.com>"), refused)
            self.assertEqual(c.cmd("NOOP"), h.reply_line("R_NOOP_OK"))
            self.assertEqual(c.cmd("EHLO good.example"), refused)
            self.assertEqual(c.cmd("MAIL FROM:<alice@example.com>"), refused)
            self.assertEqual(c.cmd("QUIT"), h.reply_line("R_BYE"))
            self.assertEqual(d.spool_files(), [])
        time.sleep(0.3)
        with open(record) as f:
            rec = f.read()
        self.assertIn("E bad.example", rec)
        self.assertNotIn("E good.example", rec)     # the milters were not asked again
        self.assertNotIn("F <alice@example.com>", rec)
        # Another session starts clean.
        with h.Smtpd(smtpd_milters=self.filter("reject_helo")) as d, d.client() as c:
            self.assertEqual(c.ehlo()[-1][:4], "250 ")

    def test_connect_refusal_waits_for_quit(self):
        """A milter refusing the connection with 5xx: the greeting is 554 with its enhanced
        code and text (RFC 5321 3.1 allows no other refusal code there), every command but
        QUIT is answered 503 and nothing reaches the milter; QUIT gets 221, then EOF."""
        tmp = tempfile.mkdtemp(prefix="postern-rc-")
        self.addCleanup(shutil.rmtree, tmp, True)
        record = os.path.join(tmp, "record")
        bad_seq = h.reply_line("R_BAD_SEQUENCE")
        with h.Smtpd(smtpd_milters=self.filter("reject_connect", record),
                     milter_reuse="yes") as d, d.client() as c:
            self.assertEqual(c.banner, "554 5.7.1 Go away")
            self.assertEqual(c.cmd("EHLO client.example"), bad_seq)
            self.assertEqual(c.cmd("MAIL FROM:<alice@example.com>"), bad_seq)
            self.assertEqual(c.cmd("NOOP"), bad_seq)
            # A BDAT's chunk is read and skipped: its bytes are not commands.
            c.send(b"BDAT 6 LAST\r\nNOOP\r\n")
            self.assertEqual(c.reply(), bad_seq)
            self.assertEqual(c.cmd("QUIT"), h.reply_line("R_BYE"))
            self.assertTrue(c.closed())
            self.assertEqual(d.spool_files(), [])
            # The next session (on the milter connection kept for reuse) is judged again.
            with d.client() as c2:
                self.assertEqual(c2.banner, "554 5.7.1 Go away")
                self.assertEqual(c2.cmd("QUIT"), h.reply_line("R_BYE"))
        time.sleep(0.3)
        with open(record) as f:
            rec = f.read()
        self.assertNotIn("E client.example", rec)
        self.assertNotIn("F <alice@example.com>", rec)
        # Multi-line, with a code that is no greeting: every line becomes 554.
        with h.Smtpd(smtpd_milters=self.filter("reject_connect_550")) as d, d.client() as c:
            self.assertEqual(c.banner, "554-5.7.1 Go away\n554 5.7.1 Really")
            self.assertEqual(c.cmd("QUIT"), h.reply_line("R_BYE"))

    def test_connect_tempfail_closes(self):
        """A 4xx refusal of the connection is a 421 greeting (its enhanced code and text
        kept), and the connection is closed."""
        with h.Smtpd(smtpd_milters=self.filter("tempfail_connect")) as d, d.client() as c:
            self.assertEqual(c.banner, "421 4.7.1 Try later")
            self.assertTrue(c.closed())
        # The 503s count as errors: smtpd_max_errors still ends a refused session.
        with h.Smtpd(smtpd_milters=self.filter("reject_connect"), smtpd_max_errors="3") as d, \
                d.client() as c:
            self.assertEqual(c.cmd("NOOP"), h.reply_line("R_BAD_SEQUENCE"))
            self.assertEqual(c.cmd("NOOP"), h.reply_line("R_BAD_SEQUENCE"))
            self.assertEqual(c.cmd("NOOP"), h.reply_line("R_BAD_SEQUENCE"))
            self.assertEqual(c.reply(), h.reply_line("R_TOO_MANY_ERRORS"))
            self.assertTrue(c.closed())

    def test_input_while_waiting_for_the_milter(self):
        """Commands that arrive while the session waits for a slow MAIL verdict (the read
        interest stays registered then) are answered after it, in order, once each."""
        def cpu_seconds(pid):
            fields = stat_fields("/proc/%d/stat" % pid)
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

        with h.Smtpd(smtpd_milters=self.filter("slow_mail")) as d, d.client() as c:
            c.ehlo()
            cpu0 = cpu_seconds(d.pid)
            c.send("MAIL FROM:<alice@example.com>\r\n")
            time.sleep(0.1)
            c.send("RCPT TO:<bob@example.net>\r\n")
            time.sleep(0.1)
            c.send("NOOP\r\n")
            self.assertEqual(c.reply(), h.reply_line("R_SENDER_OK", "<alice@example.com>"))
            # Waiting is not spinning on the unread input (1.5 s of wall clock here).
            self.assertLess(cpu_seconds(d.pid) - cpu0, 0.15)
            self.assertEqual(c.reply(), h.reply_line("R_RCPT_OK", "<bob@example.net>"))
            self.assertEqual(c.reply(), h.reply_line("R_NOOP_OK"))
            self.assertEqual(c.pending(), b"")
            self.assertEqual(c.cmd("DATA"), h.reply_line("R_DATA_GO"))
            c.send(message() + b".\r\n")
            self.assertRegex(c.reply(), h.QUEUED_RE)

    def test_command_timeout_counts_from_the_reply(self):
        """The client's command timeout starts when the reply is sent, not while the
        session waited for the milter: 1.5 s of milter then 1.2 s of client < 2 s each."""
        with h.Smtpd(smtpd_milters=self.filter("slow_mail"),
                     smtpd_command_timeout="2s") as d, d.client() as c:
            c.ehlo()
            self.assertEqual(c.cmd("MAIL FROM:<alice@example.com>", timeout=10),
                             h.reply_line("R_SENDER_OK", "<alice@example.com>"))
            time.sleep(1.2)
            self.assertEqual(c.cmd("RCPT TO:<bob@example.net>"),
                             h.reply_line("R_RCPT_OK", "<bob@example.net>"))
            # And it does expire: 2 s of silence after a reply is the limit.
            self.assertEqual(c.reply(timeout=10), h.reply_line("R_TIMEOUT"))

    def test_multiline_reject_verbatim(self):
        with h.Smtpd(smtpd_milters=self.filter("reject_ml")) as d, d.client() as c:
            c.ehlo()
            c.mail_rcpt_data()
            c.send(message() + b".\r\n")
            self.assertEqual(c.reply_lines(), ["550-5.7.1 first line", "550 5.7.1 second line"])
            self.assertEqual(c.cmd("NOOP"), "250 2.0.0 OK")
            self.assertEqual(d.spool_files(), [])

    def test_discard_answers_250_queues_nothing(self):
        with h.Smtpd(smtpd_milters=self.filter("discard_eom")) as d:
            self.assertRegex(transact(d, "alice@example.com", message())[1], h.QUEUED_RE)
            time.sleep(0.2)
            self.assertEqual(d.spool_files(), [])
            d.wait_log("discarded by milter")

    def test_refused_recipient(self):
        with h.Smtpd(smtpd_milters=self.filter("reject_rcpt")) as d, d.client() as c:
            c.ehlo()
            self.assertEqual(c.cmd("MAIL FROM:<a@example.com>"), "250 2.1.0 Sender <a@example.com> OK")
            self.assertEqual(c.cmd("RCPT TO:<bad@example.com>"), "550 5.1.1 No such user here")
            self.assertEqual(c.cmd("DATA"), "503 5.5.1 Need RCPT command")
            self.assertTrue(c.cmd("RCPT TO:<good@example.com>").startswith("250 "))
            self.assertEqual(c.cmd("DATA"), "354 End data with <CR><LF>.<CR><LF>")
            c.send(message() + b".\r\n")
            self.assertRegex(c.reply(), h.QUEUED_RE)
            time.sleep(0.2)
            self.assertEqual(spool_env(d.spool_files()[0]),
                             ["sender <a@example.com>", "rcpt <good@example.com>"])

    def test_edits_applied_before_250(self):
        with h.Smtpd(smtpd_milters=self.filter("modify")) as d, d.client() as c:
            c.ehlo()
            c.mail_rcpt_data(sender="a@example.com", rcpts=("b@example.com", "c@example.com"))
            c.send(message().replace(b"Subject:", b"X-Drop: me\r\nSubject:") + b".\r\n")
            self.assertRegex(c.reply(), h.QUEUED_RE)
            f = d.spool_files()[0]
            self.assertEqual(spool_env(f), [
                "sender <new@example.com>", "rcpt <c@example.com>", "rcpt <added@example.com>",
                "rcpt <added2@example.com>", "quarantine held for review"])
            msg = spooled_message(f)
            head, body = msg.split(b"\r\n\r\n", 1)
            lines = head.split(b"\r\n")
            self.assertEqual(lines[0], b"X-First: top")
            self.assertIn(b"Subject: changed subject", lines)
            self.assertFalse(any(ln.startswith(b"X-Drop") for ln in lines), lines)
            self.assertEqual(lines[-2:], [b"X-Multi: line one", b"\tline two"])
            self.assertEqual(body, b"Hi there.\r\n")
            with open(f, "rb") as fh:
                data = fh.read()
            size = int(re.search(rb"\nsize (\d+)\n", data).group(1))
            self.assertEqual(size, len(msg))

    def test_replaced_body(self):
        with h.Smtpd(smtpd_milters=self.filter("replbody")) as d:
            self.assertRegex(transact(d, "alice@example.com", message())[1], h.QUEUED_RE)
            msg = spooled_message(d.spool_files()[0])
            head, body = msg.split(b"\r\n\r\n", 1)
            self.assertIn(b"Subject: Hello", head)
            self.assertEqual(len(body), 200000 + 4000)     # 4,000 LF lines became CRLF
            self.assertEqual(body[:52], b"abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvw\r\ny")


class PerRecipient(h.SmtpdTestCase):
    """postern-check and the live milter agree recipient by recipient (issue 19): a module
    refusing a domain at RCPT refuses that recipient only, the message is queued for the
    other, and postern-check over the same message with the same config says the same."""

    def test_check_says_what_the_milter_does(self):
        if not os.path.exists(BLOCKDOMAIN):
            self.fail("%s not built (make check builds it)" % BLOCKDOMAIN)
        port = h.free_port()
        m = start_milter(port, policy_modules=BLOCKDOMAIN, blockdomain_domains="blocked.example")
        msg = message()
        try:
            with h.Smtpd(smtpd_milters="inet:127.0.0.1:%d" % port) as d, d.client() as c:
                c.ehlo()
                live = [c.cmd("MAIL FROM:<alice@example.com>")]
                live.append(c.cmd("RCPT TO:<x@blocked.example>"))
                live.append(c.cmd("RCPT TO:<ok@example.net>"))
                self.assertEqual(c.cmd("DATA"), "354 End data with <CR><LF>.<CR><LF>")
                c.send(msg + b".\r\n")
                live.append(c.reply(timeout=30))
                time.sleep(0.2)
                self.assertEqual(spool_env(d.spool_files()[0]),
                                 ["sender <alice@example.com>", "rcpt <ok@example.net>"])
        finally:
            self.assertEqual(m.stop(), 0, m.log()[-4000:])
        self.assertEqual(live[1], "550 5.7.1 Recipient domain blocked by local policy")
        self.assertTrue(live[2].startswith("250 "), live)
        self.assertRegex(live[3], h.QUEUED_RE)
        with tempfile.TemporaryDirectory(prefix="postern-check-") as tmp:
            eml = os.path.join(tmp, "m.eml")
            with open(eml, "wb") as f:
                f.write(msg)
            r = subprocess.run([CHECK_BIN, "-c", m.conf, "-f", "alice@example.com",
                                "-r", "x@blocked.example", "-r", "ok@example.net", eml],
                               capture_output=True, text=True, timeout=60 * h.SLOW)
        self.assertEqual(r.stdout.splitlines(), [
            "%s: <x@blocked.example>: %s" % (eml, live[1]),
            "%s: <ok@example.net>: accept" % eml,
            "%s: accept" % eml,
        ], r.stderr)
        self.assertEqual(r.returncode, 1)


class OpenDKIM(h.SmtpdTestCase):
    def run_opendkim(self, tmp, name, port, lines):
        """OpenDKIM on 127.0.0.1:port, or on the unix socket at port when it is a path."""
        conf = os.path.join(tmp, name + ".conf")
        sock = ("local:%s" % port) if isinstance(port, str) else ("inet:%d@127.0.0.1" % port)
        with open(conf, "w") as f:
            f.write("Socket %s\nSyslog no\nUMask 007\nPidFile %s\n"
                    % (sock, os.path.join(tmp, name + ".pid")))
            f.write("".join(ln + "\n" for ln in lines))
        log = open(os.path.join(tmp, name + ".log"), "ab")
        p = subprocess.Popen([OPENDKIM, "-f", "-x", conf], stdout=log, stderr=subprocess.STDOUT)
        self.addCleanup(h.stop_process, p)
        if not postfix.wait_port(port, timeout=15, proc=p):
            self.fail("opendkim %s did not start: %s" % (name, open(log.name).read()))
        return p

    def keys(self):
        """A fresh test key for example.com (selector "test"): its directory, which also
        holds the "keys" file a verifier's TestPublicKeys reads instead of DNS."""
        if not os.access(OPENDKIM, os.X_OK) or not os.access(GENKEY, os.X_OK):
            self.skipTest("opendkim not installed (scripts/install-deps.sh)")
        # opendkim refuses configs and keys under a directory others may write (/tmp).
        home = os.path.expanduser("~")
        if os.stat(home).st_mode & 0o022:
            self.skipTest("%s is writable by others: opendkim refuses keys below it" % home)
        tmp = tempfile.mkdtemp(prefix=".postern-dkim-", dir=home)
        self.addCleanup(shutil.rmtree, tmp, True)
        subprocess.run([GENKEY, "-D", tmp, "-d", "example.com", "-s", "test", "-b", "2048"],
                       check=True)
        with open(os.path.join(tmp, "test.txt")) as f:
            txt = "".join(re.findall(r'"([^"]*)"', f.read()))
        with open(os.path.join(tmp, "keys"), "w") as f:
            f.write("test._domainkey.example.com %s\n" % txt)
        return tmp

    def signer(self, tmp, port, mode="s", internal="127.0.0.1"):
        """A signing OpenDKIM that signs for clients from internal. Canonicalization
        simple/simple, its default, and the one that sees a header's every blank."""
        return self.run_opendkim(tmp, "signer", port, [
            "Mode " + mode, "Domain example.com", "Selector test",
            "Canonicalization simple/simple", "KeyFile " + os.path.join(tmp, "test.private"),
            "InternalHosts " + internal])

    def signed(self, d, n):
        """n messages through d, each queued with OpenDKIM's signature on top: their text."""
        out = []
        for _ in range(n):
            msg = spooled_message(queue_one(self, d, "alice@example.com", message())[1])
            self.assertTrue(msg.startswith(b"DKIM-Signature: v=1;"), msg[:200])
            self.assertIn(b"d=example.com", msg)
            out.append(msg)
        return out

    def test_policy_milter_then_signer(self):
        """The usual deployment: postern-milter first (here over [::1], or 127.0.0.1 where the
        machine has no IPv6 loopback) with its connection reused, OpenDKIM second over a
        unix socket, a connection a session (the default), in one smtpd_milters list. A
        message the policy refuses gets its exact line and is never signed; accepted ones
        are spooled signed."""
        tmp = self.keys()
        dkim_sock = os.path.join(tmp, "dkim.sock")
        self.signer(tmp, dkim_sock)
        if h.ipv6_available():
            host = "::1"
            pport = h.free_port(socket.AF_INET6, host)
            listen = "inet6:[::1]:%d" % pport
        else:
            sys.stderr.write("no ::1 here: postern-milter over 127.0.0.1 instead of inet6\n")
            host = "127.0.0.1"
            pport = h.free_port()
            listen = "inet:127.0.0.1:%d" % pport
        m = postfix.Milter(MILTER_BIN, {"milter_listen": listen, "milter_user": ""},
                           name="smtpd-milter-v6").start()
        if not postfix.wait_port((host, pport), proc=m.proc):
            m.stop()
            self.fail("postern-milter did not listen on %s:\n%s" % (listen, m.log()))
        try:
            with h.Smtpd(smtpd_milters="{ %s, reuse=yes }, unix:%s" % (listen, dkim_sock)) as d:
                self.assertEqual(transact(d, "alice@example.com", message(subject="")),
                                 ("data", "554 5.6.0 Subject not present"))
                self.assertEqual(transact(d, "<>", message()),
                                 ("mail", "550 5.7.1 Empty sender not allowed"))
                self.assertEqual(d.spool_files(), [])
                self.signed(d, 2)
                self.assertEqual(d.stop(), 0)
                self.assertIn("milter connections: 5 opened, 3 sessions on a reused one",
                              d.log_text())
            # postern-milter judged every message: its verdict lines, one per transaction.
            log = m.log()
            self.assertIn("Subject not present", log)
            self.assertIn("Empty sender not allowed", log)
        finally:
            m.stop()

    def test_signs_authenticated_submissions(self):
        """How a submission server runs OpenDKIM: the client's address is not internal, so
        it signs only what an authenticated client sends, which it learns from the
        {auth_type} / {auth_authen} macros postern-smtpd sends with MAIL."""
        tmp = self.keys()
        port = h.free_port()
        self.signer(tmp, port, mode="sv", internal="192.0.2.1")
        with h.Smtpd(smtpd_milters="inet:127.0.0.1:%d" % port,
                     accounts_file=os.path.join(CORPUS, "accounts")) as d:
            for account in (None, "alice"):
                new = queue_one(self, d, "alice@example.com", message(), account)[1]
                signed = spooled_message(new).startswith(b"DKIM-Signature: v=1;")
                self.assertEqual(signed, account is not None, account)

    def test_signature_verifies(self):
        """Signed behind one postern-smtpd, verified behind another, three messages each in
        a session of its own (milter connections are not reused by default: OpenDKIM keeps
        what it negotiated in state it frees at xxfi_close, and then its simple-canonical
        signatures fail). A tampered body must fail: the test can fail."""
        tmp = self.keys()
        sport, vport = h.free_port(), h.free_port()
        self.signer(tmp, sport)
        self.run_opendkim(tmp, "verifier", vport, [
            "Mode v", "TestPublicKeys " + os.path.join(tmp, "keys"),
            "InternalHosts 192.0.2.1", "AuthservID verifier.test"])
        with h.Smtpd(smtpd_milters="inet:127.0.0.1:%d" % sport) as signer, \
                h.Smtpd(smtpd_milters="inet:127.0.0.1:%d" % vport) as verifier:
            for signed in self.signed(signer, 3):
                self.assertIn(b"s=test", signed)
                self.assertIn(b"c=simple/simple", signed)
                # Through the verifier: it records dkim=pass.
                new = queue_one(self, verifier, "alice@example.com", signed)[1]
                self.assertRegex(spooled_message(new),
                                 rb"^Authentication-Results: verifier\.test;\s+dkim=pass")
            bad = signed.replace(b"Hi there.", b"Hi thera.")
            new = queue_one(self, verifier, "alice@example.com", bad)[1]
            self.assertRegex(spooled_message(new),
                             rb"^Authentication-Results: verifier\.test;\s+dkim=fail")
            self.assertEqual(signer.stop(), 0)
            self.assertIn("milter connections: 3 opened, 0 sessions on a reused one",
                          signer.log_text())


if __name__ == "__main__":
    if not os.access(MILTER_BIN, os.X_OK):
        print("SKIP: %s is not built" % MILTER_BIN)
        print("0 passed, 0 failed")
        sys.exit(77)
    h.main()
