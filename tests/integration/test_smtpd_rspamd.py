"""test_smtpd_rspamd.py - postern-smtpd in front of rspamd's milter, the one milter in
Debian that is not built on libmilter: rspamd's proxy worker speaks the protocol with a
code of its own (milter = yes, self_scan), so this checks the MTA side against a second,
independent reading of it.

A private rspamd (its own config, socket, database and log under a temp dir; no Lua
rules, no DNS, no network) judges by its GTUBE test patterns, one per action:
reject (the reply passed to the client verbatim, nothing queued), add header
(X-Spam: Yes in the spooled message), rewrite subject (Subject changed in place) and
no action (spooled as sent); and, from two more proxy workers, a reject turned into
quarantine (the envelope's quarantine line) or discard (250, nothing queued). Each twice: a milter connection per session (the default)
and reused ones (reuse=yes); rspamd must log every milter connection as finished,
none closed abnormally, which needs postern-smtpd to end pooled connections with
SMFIC_QUIT, not a bare EOF, when it stops.
"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import smtpd as h  # noqa: E402
from test_smtpd_milter import queue_one, spool_env, spooled_message, transact  # noqa: E402

RSPAMD = shutil.which("rspamd", path="/usr/bin:/usr/sbin:" + os.environ.get("PATH", ""))
# rspamd's test patterns (options.enable_test_patterns): the first letter picks the action.
GTUBE = "JS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"
REJECT, ADD_HEADER, REWRITE_SUBJECT, NO_ACTION = ("X" + GTUBE, "Y" + GTUBE, "Z" + GTUBE,
                                                  "A" + GTUBE)

CONFIG = """options {
  pidfile = "%(dir)s/rspamd.pid";
  dbdir = "%(dir)s/db";
  tempdir = "%(dir)s";
  filters = "";
  enable_test_patterns = true;
  # A short public-suffix list: the full one takes rspamd seconds to compile.
  url_tld = "%(dir)s/tld.dat";
  # No DNS here: a closed local port fails at once.
  dns { nameserver = ["127.0.0.1:1"]; timeout = 0.2s; retransmits = 1; }
  control_socket = "%(dir)s/db/rspamd.sock mode=0600";
}
logging { type = "file"; filename = "%(dir)s/rspamd.log"; level = "info"; }
%(workers)s
actions { reject = 15; add_header = 6; greylist = 4; }
"""


# Milter proxies that scan themselves (self_scan): the plain one on "port"; on "qport"
# a reject becomes "quarantine this" (SMFIR_QUARANTINE), on "dport" "discard it".
WORKERS = (("port", 'spam_header = "X-Spam";'), ("qport", "quarantine_on_reject = true;"),
           ("dport", "discard_on_reject = true;"))


def workers(ports):
    return "".join('worker "rspamd_proxy" {\n  bind_socket = "127.0.0.1:%d";\n  milter = yes;\n'
                   '  timeout = 30s;\n  upstream "local" { default = yes; self_scan = yes; }\n'
                   '  count = 1;\n  %s\n}\n' % (ports[name], extra) for name, extra in WORKERS)


def message(body, subject="Hello"):
    return ("From: <alice@example.com>\r\nTo: <rcpt@example.net>\r\nSubject: %s\r\n"
            "Date: Thu, 1 Jan 2026 00:00:00 +0000\r\nMessage-ID: <m%d@example.com>\r\n\r\n"
            "%s\r\n" % (subject, time.monotonic_ns(), body)).encode()


def headers(path):
    return spooled_message(path).split(b"\r\n\r\n", 1)[0].split(b"\r\n")


class Rspamd(h.SmtpdTestCase):
    def start_rspamd(self):
        tmp = tempfile.mkdtemp(prefix="postern-rspamd-")
        self.addCleanup(shutil.rmtree, tmp, True)
        os.mkdir(os.path.join(tmp, "db"))
        with open(os.path.join(tmp, "tld.dat"), "w") as f:
            f.write("com\nnet\norg\n")
        ports = {name: h.free_port() for name, _ in WORKERS}
        conf = os.path.join(tmp, "rspamd.conf")
        with open(conf, "w") as f:
            f.write(CONFIG % {"dir": tmp, "workers": workers(ports)})
        argv = [RSPAMD, "-f", "-i", "-c", conf]
        if os.geteuid() == 0:
            argv += ["-u", "root", "-g", "root"]     # its files are root's temp dir
        with open(os.path.join(tmp, "stdout.log"), "ab") as out:
            p = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT,
                                 stdin=subprocess.DEVNULL)
        self.addCleanup(h.stop_process, p)
        self.log = os.path.join(tmp, "rspamd.log")
        # Waited for in /proc, not by connecting: rspamd logs a connection closed before
        # any packet as an abnormal one, which this test counts.
        deadline = time.monotonic() + 60
        while not all(h._listening(port) for port in ports.values()):
            if p.poll() is not None or time.monotonic() > deadline:
                self.fail("rspamd did not listen on %s:\n%s" % (ports, self.rspamd_log()[-3000:]))
            time.sleep(0.05)
        return ports

    def rspamd_log(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def test_actions(self):
        if RSPAMD is None:
            self.skipTest("rspamd not installed (scripts/install-deps.sh)")
        port = self.start_rspamd()["port"]
        for reuse in ("no", "yes"):
            with self.subTest(reuse=reuse):
                self.actions("{ inet:127.0.0.1:%d, reuse=%s }" % (port, reuse), reuse)

    def finished(self, want, timeout=5.0):
        """Wait until rspamd has logged want finished milter connections; the count."""
        deadline = time.monotonic() + timeout
        while True:
            n = self.rspamd_log().count("finished milter connection")
            if n >= want or time.monotonic() > deadline:
                return n
            time.sleep(0.05)

    def test_reload_ends_pooled_connection(self):
        """SIGHUP replaces the milter list: the pooled connection of the old one is ended
        with SMFIC_QUIT too, and the next session opens a new one."""
        if RSPAMD is None:
            self.skipTest("rspamd not installed (scripts/install-deps.sh)")
        port = self.start_rspamd()["port"]
        with h.Smtpd(smtpd_milters="{ inet:127.0.0.1:%d, reuse=yes }" % port) as d:
            for _ in range(2):
                self.assertRegex(transact(d, "alice@example.com", message(NO_ACTION))[1],
                                 h.QUEUED_RE)
            self.assertEqual(self.finished(0, 0), 0)   # pooled, not ended
            d.signal(signal.SIGHUP)
            self.assertEqual(self.finished(1), 1)
            self.assertEqual(transact(d, "alice@example.com", message(REJECT)),
                             ("data", "554 5.7.1 Gtube pattern"))
            self.assertEqual(d.stop(), 0)
            self.assertIn("milter connections: 2 opened, 1 sessions on a reused one",
                          d.log_text())
        self.assertEqual(self.finished(2), 2)
        self.assertNotIn("abnormally closing milter connection", self.rspamd_log())

    def test_quarantine_and_discard(self):
        """rspamd's quarantine_on_reject and discard_on_reject: the message is queued with
        rspamd's reason on the envelope's quarantine line, or answered 250 and dropped."""
        if RSPAMD is None:
            self.skipTest("rspamd not installed (scripts/install-deps.sh)")
        ports = self.start_rspamd()
        with h.Smtpd(smtpd_milters="inet:127.0.0.1:%d" % ports["qport"]) as d:
            held = queue_one(self, d, "alice@example.com", message(REJECT))[1]
            self.assertIn("quarantine Spam message quarantined", spool_env(held))
            # An innocent message is not held.
            passed = queue_one(self, d, "alice@example.com", message(NO_ACTION))[1]
            self.assertEqual(spool_env(passed), ["sender <alice@example.com>",
                                                 "rcpt <rcpt@example.net>"])
        with h.Smtpd(smtpd_milters="inet:127.0.0.1:%d" % ports["dport"]) as d:
            self.assertRegex(transact(d, "alice@example.com", message(REJECT))[1], h.QUEUED_RE)
            self.assertEqual(d.spool_files(), [])
            self.assertRegex(transact(d, "alice@example.com", message(NO_ACTION))[1],
                             h.QUEUED_RE)
            self.assertEqual(len(d.spool_files()), 1)

    def actions(self, milters, reuse):
        finished = self.rspamd_log().count("finished milter connection")
        conns = 1 if reuse == "yes" else 4
        with h.Smtpd(smtpd_milters=milters) as d:
            # reject: rspamd's own line, verbatim; nothing queued.
            self.assertEqual(transact(d, "alice@example.com", message(REJECT)),
                             ("data", "554 5.7.1 Gtube pattern"))
            self.assertEqual(d.spool_files(), [])
            got = {}
            for name, body in (("add", ADD_HEADER), ("subject", REWRITE_SUBJECT),
                               ("none", NO_ACTION)):
                reply, new = queue_one(self, d, "alice@example.com", message(body))
                got[name] = headers(new)
                qid = h.QUEUED_RE.match(reply).group(1)
            self.assertIn(b"X-Spam: Yes", got["add"])
            self.assertIn(b"Subject: Hello", got["add"])
            self.assertIn(b"Subject: *** SPAM *** Hello", got["subject"])
            self.assertNotIn(b"Subject: Hello", got["subject"])
            self.assertNotIn(b"X-Spam: Yes", got["subject"])
            self.assertIn(b"Subject: Hello", got["none"])
            self.assertFalse([x for x in got["none"] if x.startswith(b"X-Spam")], got["none"])
            self.assertEqual(d.stop(), 0)
            self.assertIn("milter connections: %d opened, %d sessions on a reused one"
                          % (conns, 4 - conns), d.log_text())
        # Every milter connection ended the way the protocol ends one.
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            log = self.rspamd_log()
            if log.count("finished milter connection") >= finished + conns:
                break
            time.sleep(0.05)
        self.assertNotIn("abnormally closing milter connection", log)
        # The macros reached it: its log line for the last message has the queue id ("i")
        # and the client address ({client_addr}, or the connect packet).
        self.assertRegex(log, r"qid: <%s>, ip: 127\.0\.0\.1, from: <alice@example\.com>"
                         % qid)
        self.assertEqual(log.count("finished milter connection"), finished + conns, log[-3000:])


if __name__ == "__main__":
    h.main()
