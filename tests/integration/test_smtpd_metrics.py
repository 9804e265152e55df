#!/usr/bin/env python3
"""test_smtpd_metrics.py - postern-smtpd's /metrics (smtpd_metrics_listen): every
line parses as Prometheus text format, counters move by exactly the traffic
sent between two scrapes, and garbage, slow and many parallel HTTP clients
neither block mail nor the endpoint."""

import os
import re
import resource
import shutil
import socket
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import smtpd as h  # noqa: E402

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
SAMPLE_RE = re.compile(r"^(%s)(\{(?:%s)(?:,%s)*\})? (-?[0-9.e+]+|\+Inf|NaN)$" % (NAME, LABEL, LABEL))
HELP_RE = re.compile(r"^# HELP (%s) .+$" % NAME)
TYPE_RE = re.compile(r"^# TYPE (%s) (counter|gauge|histogram|summary|untyped)$" % NAME)
PER_IP = "421 4.3.2 Client connection limit reached"
KINDS = ("connect", "timeout", "closed", "protocol", "owner")


class BadMilter:
    """A TCP listener on loopback that plays a broken milter: "silent" never accepts
    (the kernel completes the handshake, nobody answers), "closer" accepts and closes,
    "garbage" accepts and sends a packet of no known command."""

    def __init__(self, how):
        self.how = how
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.stopping = False
        self.thread = None
        if how != "silent":
            self.thread = threading.Thread(target=self.serve, daemon=True)
            self.thread.start()

    def serve(self):
        self.sock.settimeout(0.2)
        while not self.stopping:
            try:
                c, _ = self.sock.accept()
            except OSError:
                continue
            if self.how == "garbage":
                c.sendall(b"\0\0\0\x01Z")
                c.settimeout(10)
                try:
                    c.recv(65536)       # until the client gives up on it
                except OSError:
                    pass
            c.close()

    def close(self):
        self.stopping = True
        if self.thread:
            self.thread.join(10)
        self.sock.close()


def parse(text):
    """{(name, labels): value} of an exposition; raises on any line that is not the format."""
    assert text.endswith("\n"), "exposition must end with a newline"
    samples, types, seen_help = {}, {}, set()
    for ln in text.split("\n")[:-1]:
        if ln.startswith("# HELP"):
            m = HELP_RE.match(ln)
            assert m, "bad HELP line %r" % ln
            assert m.group(1) not in seen_help, "second HELP for %s" % m.group(1)
            seen_help.add(m.group(1))
            continue
        if ln.startswith("# TYPE"):
            m = TYPE_RE.match(ln)
            assert m, "bad TYPE line %r" % ln
            assert m.group(1) not in types, "second TYPE for %s" % m.group(1)
            types[m.group(1)] = m.group(2)
            continue
        m = SAMPLE_RE.match(ln)
        assert m, "bad sample line %r" % ln
        name, labels, value = m.group(1), m.group(2) or "", float(m.group(3))
        family = re.sub(r"_(bucket|sum|count)$", "", name) if name not in types else name
        assert family in types, "sample %s before its TYPE" % name
        if types[family] == "counter":
            assert name.endswith("_total"), "counter %s without _total" % name
        assert (name, labels) not in samples, "duplicate series %s%s" % (name, labels)
        samples[(name, labels)] = value
    return samples


def alert_rule_names(prefix):
    """The families named prefix... that contrib/prometheus/postern.rules.yml uses; every
    rule must have an alert and an expr (shared with test_relay_metrics)."""
    import yaml
    with open(os.path.join(h.TOP_SRCDIR, "contrib", "prometheus", "postern.rules.yml")) as f:
        rules = yaml.safe_load(f)
    names = set()
    for g in rules["groups"]:
        for r in g["rules"]:
            assert "alert" in r and "expr" in r, "rule without alert or expr: %r" % r
            names |= {re.sub(r"_bucket$", "", n) for n in re.findall(prefix + r"\w+", r["expr"])}
    return names


class Metrics(h.SmtpdTestCase):
    @classmethod
    def setUpClass(cls):
        cls.mport = h.free_port()
        # A milter whose socket does not exist (default_action=accept: the mail flows):
        # every admitted connection fails to reach it, once.
        cls.tmp = tempfile.mkdtemp(prefix="postern-metrics-")
        cls.dead = "unix:%s/nobody.sock" % cls.tmp
        cls.d = h.Smtpd(tls=True, smtpd_require_tls=False, smtpd_max_connections_per_ip=3,
                        smtpd_milters="{ %s, default_action=accept }" % cls.dead,
                        smtpd_metrics_listen="127.0.0.1:%d" % cls.mport).start()

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def scrape(self, timeout=10):
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % self.mport,
                                    timeout=timeout) as r:
            self.assertEqual(r.status, 200)
            self.assertEqual(r.headers["Content-Type"], "text/plain; version=0.0.4; charset=utf-8")
            return parse(r.read().decode())

    def delta(self, before, after, name, labels=""):
        return after.get((name, labels), 0) - before.get((name, labels), 0)

    def test_counters_move_by_the_traffic(self):
        before = self.scrape()
        sizes = []
        with self.d.client(source="127.0.0.20") as c:
            c.ehlo()
            self.assertEqual(c.cmd("BOGUS"), "502 5.5.1 Unrecognized command")
            c.starttls()
            c.ehlo()
            self.assertEqual(c.auth_plain("alice", "wrong"),
                             "535 5.7.8 Authentication credentials invalid")
            self.assertEqual(c.auth_plain("alice"), "235 2.7.0 Authentication successful")
            for body in ("Subject: one\r\n\r\nfirst\r\n", "Subject: two\r\n\r\n" + "x" * 5000 + "\r\n"):
                self.assertTrue(h.QUEUED_RE.match(c.send_message(body)))
            self.assertEqual(c.cmd("QUIT"), "221 2.0.0 Bye")
        # The per-address limit: three held, a fourth refused.
        held = [self.d.client(source="127.0.0.21") for _ in range(3)]
        with self.d.client(source="127.0.0.21") as c:
            self.assertEqual(c.banner, PER_IP)
        self.assertTrue(self.wait_for(lambda: self.scrape()[("postern_smtpd_connections", "")] == 3))
        for c in held:
            c.close()
        self.assertTrue(self.wait_for(lambda: self.scrape()[("postern_smtpd_connections", "")] == 0))
        for m in re.finditer(r"queued id=\S+ size=(\d+)", self.d.log_text()):
            sizes.append(int(m.group(1)))
        after = self.scrape()
        d = lambda *k: self.delta(before, after, *k)  # noqa: E731
        self.assertEqual(d("postern_smtpd_connections_total"), 4)
        self.assertEqual(d("postern_smtpd_connections_refused_total",
                           '{reason="max_connections_per_ip"}'), 1)
        self.assertEqual(d("postern_smtpd_replies_total", '{code="421",enhanced="4.3.2"}'), 1)
        self.assertEqual(d("postern_smtpd_replies_total", '{code="502",enhanced="5.5.1"}'), 1)
        self.assertEqual(d("postern_smtpd_replies_total", '{code="535",enhanced="5.7.8"}'), 1)
        self.assertEqual(d("postern_smtpd_replies_total", '{code="235",enhanced="2.7.0"}'), 1)
        self.assertEqual(d("postern_smtpd_replies_total", '{code="250",enhanced="2.6.0"}'), 2)
        self.assertEqual(d("postern_smtpd_replies_total", '{code="221",enhanced="2.0.0"}'), 1)
        self.assertEqual(d("postern_smtpd_replies_total", '{code="220",enhanced=""}'), 4)
        self.assertEqual(d("postern_smtpd_auth_total", '{result="ok"}'), 1)
        self.assertEqual(d("postern_smtpd_auth_total", '{result="failed"}'), 1)
        self.assertEqual(d("postern_smtpd_tls_sessions_total", '{version="TLSv1.3"}'), 1)
        self.assertEqual(d("postern_smtpd_messages_queued_total"), 2)
        self.assertEqual(len(sizes), 2)
        self.assertEqual(d("postern_smtpd_bytes_queued_total"), sum(sizes))
        self.assertGreater(sizes[1], 5000)
        # The milter that is not there: kind connect, once per admitted connection.
        for kind in KINDS:
            self.assertEqual(d("postern_smtpd_milter_failures_total",
                               '{milter="%s",kind="%s"}' % (self.dead, kind)),
                             4 if kind == "connect" else 0, kind)

    def families(self):
        return {re.sub(r"_(bucket|sum|count)$", "", n) if "seconds" in n else n
                for n, _ in self.scrape()}

    def test_man_page_lists_every_metric(self):
        with open(os.path.join(h.TOP_SRCDIR, "doc", "postern-smtpd.8")) as f:
            page = f.read()
        section = page[page.index(".SH METRICS"):page.index(".SH", page.index(".SH METRICS") + 4)]
        documented = set(re.findall(r"^\.BR (postern_smtpd_\w+)", section, re.M))
        self.assertEqual(documented, self.families())

    def test_alert_rules_use_real_metrics(self):
        names = alert_rule_names("postern_smtpd_")
        self.assertTrue(names)
        self.assertLessEqual(names, self.families())

    def test_not_found_and_methods(self):
        with self.assertRaises(urllib.error.HTTPError) as e:
            urllib.request.urlopen("http://127.0.0.1:%d/" % self.mport, timeout=10)
        self.assertEqual(e.exception.code, 404)
        req = urllib.request.Request("http://127.0.0.1:%d/metrics" % self.mport, data=b"x" * 10,
                                     method="POST")
        with self.assertRaises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(req, timeout=10)
        self.assertIn(e.exception.code, (405, 413))

    def test_garbage_slow_and_many_clients_do_not_block_mail(self):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        want = min(hard, 4096)
        if soft < want:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
        n = min(1000, want - 100)
        socks = []
        try:
            for i in range(n):
                s = socket.create_connection(("127.0.0.1", self.mport), 10)
                if i % 3 == 0:
                    s.sendall(b"\x16\x03\x01\x00\xff garbage \x00\r\n\r\n")
                elif i % 3 == 1:
                    s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ")   # never finished
                socks.append(s)
            s = socket.create_connection(("127.0.0.1", self.mport), 10)
            s.sendall(b"GET /metrics HTTP/1.1\r\n" + b"X-Big: " + b"a" * 20000 + b"\r\n\r\n")
            socks.append(s)
            # Mail goes on meanwhile, promptly.
            t0 = time.time()
            with self.d.client(source="127.0.0.22") as c:
                c.ehlo()
                self.assertTrue(h.QUEUED_RE.match(c.send_message("Subject: busy\r\n\r\nx\r\n")))
                c.cmd("QUIT")
            self.assertLess(time.time() - t0, 5 * h.SLOW)
            # And so does a real scrape.
            self.assertIn(("postern_smtpd_connections", ""), self.scrape())
        finally:
            for s in socks:
                s.close()
        self.assertTrue(self.d.alive())


MILTER_BIN = os.path.join(h.TOP_BUILDDIR, "milter", "postern-milter")
CORPUS = os.path.join(h.TOP_SRCDIR, "tests", "corpus")


def scrape_port(port):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=10) as r:
        return parse(r.read().decode())


class WithMilter(h.SmtpdTestCase):
    """postern-milter's own endpoint (milter_metrics_listen) and postern-smtpd's milter series."""

    def test_verdicts_and_round_trips(self):
        import postfix
        mport, mmport, smport = h.free_port(), h.free_port(), h.free_port()
        m = postfix.Milter(MILTER_BIN, {"milter_listen": "inet:127.0.0.1:%d" % mport,
                                        "milter_user": "", "milter_metrics_listen":
                                        "127.0.0.1:%d" % mmport}, name="metrics-milter")
        m.start(wait_port_num=mport)
        try:
            d = h.Smtpd(smtpd_milters="inet:127.0.0.1:%d" % mport,
                        smtpd_metrics_listen="127.0.0.1:%d" % smport)
            with d:
                mb, sb = scrape_port(mmport), scrape_port(smport)
                for name, want in (("00-clean.eml", h.QUEUED_RE),
                                   ("08-no-subject.eml", r"^554 5\.6\.0 Subject not present$")):
                    with open(os.path.join(CORPUS, name), "rb") as f:
                        data = f.read().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
                    with d.client() as c:
                        c.ehlo()
                        c.mail_rcpt_data(sender="alice@example.com", rcpts=("rcpt@example.net",))
                        c.send(h.dot_stuff(data) + b".\r\n")
                        self.assertRegex(c.reply(timeout=30), want)
                        c.cmd("QUIT")
                self.assertTrue(self.wait_for(
                    lambda: scrape_port(mmport)[("postern_milter_sessions", "")] == 0, 10))
                ma, sa = scrape_port(mmport), scrape_port(smport)
        finally:
            rc = m.stop()
        self.assertEqual(rc, 0, m.log()[-3000:])
        md = lambda n, lab="": ma.get((n, lab), 0) - mb.get((n, lab), 0)  # noqa: E731
        sd = lambda n, lab="": sa.get((n, lab), 0) - sb.get((n, lab), 0)  # noqa: E731
        self.assertEqual(md("postern_milter_sessions_total"), 2)
        self.assertEqual(md("postern_milter_messages_total"), 2)
        self.assertEqual(md("postern_milter_verdicts_total",
                            '{stage="eom",verdict="accept",rule="-"}'), 1)
        rejected = [(k, v) for k, v in ma.items() if k[0] == "postern_milter_verdicts_total"
                    and 'verdict="reject"' in k[1]]
        self.assertEqual(len(rejected), 1, rejected)
        self.assertRegex(rejected[0][0][1], r'^\{stage="eom",verdict="reject",rule="[\w.-]+"\}$')
        self.assertEqual(rejected[0][1], 1)
        # postern-smtpd timed every event it waited on, and saw one refusal at end of data.
        self.assertEqual(sd("postern_smtpd_milter_round_trip_seconds_count"),
                         sum(sd("postern_smtpd_milter_verdicts_total", '{action="%s"}' % a)
                             for a in ("continue", "reject", "tempfail", "discard", "close")))
        self.assertGreaterEqual(sd("postern_smtpd_milter_round_trip_seconds_count"), 2)
        self.assertEqual(sd("postern_smtpd_milter_verdicts_total", '{action="reject"}'), 1)
        self.assertEqual(sd("postern_smtpd_replies_total", '{code="554",enhanced="5.6.0"}'), 1)


class MilterFailures(h.SmtpdTestCase):
    def test_each_kind_counted_once_per_failure(self):
        """A silent milter (timeout), one that hangs up (closed) and one that speaks garbage
        (protocol), all default_action=accept: each session counts one failure of each, under
        its own smtpd_milters entry, and nothing else moves."""
        bad = {how: BadMilter(how) for how in ("silent", "closer", "garbage")}
        try:
            port = h.free_port()
            names = {how: "inet:127.0.0.1:%d" % b.port for how, b in bad.items()}
            spec = ", ".join("{ %s, default_action=accept }" % n for n in names.values())
            with h.Smtpd(smtpd_milters=spec, milter_timeout="1s",
                         smtpd_metrics_listen="127.0.0.1:%d" % port) as d:
                before = scrape_port(port)
                for _ in range(2):
                    # The banner waits for the milters' connect step: failed by then.
                    with d.client(timeout=30) as c:
                        self.assertTrue(c.banner.startswith("220 "), c.banner)
                        self.assertEqual(c.cmd("QUIT"), "221 2.0.0 Bye")
                after = scrape_port(port)
        finally:
            for b in bad.values():
                b.close()
        want = {"silent": "timeout", "closer": "closed", "garbage": "protocol"}
        for how, name in names.items():
            for kind in KINDS:
                lab = '{milter="%s",kind="%s"}' % (name, kind)
                self.assertIn(("postern_smtpd_milter_failures_total", lab), before)
                self.assertEqual(after[("postern_smtpd_milter_failures_total", lab)]
                                 - before[("postern_smtpd_milter_failures_total", lab)],
                                 2 if kind == want[how] else 0, (how, kind))


class Config(h.SmtpdTestCase):
    def test_contract_key_metrics_listen(self):
        # product.md names the key metrics_listen: it serves postern-smtpd's endpoint.
        port = h.free_port()
        with h.Smtpd(metrics_listen="127.0.0.1:%d" % port):
            names = set(name for name, _labels in scrape_port(port))
            self.assertIn("postern_smtpd_connections", names)

    def test_bad_address(self):
        import subprocess
        d = h.Smtpd(smtpd_metrics_listen="127.0.0.1:99999")
        p = subprocess.run([h.SMTPD_BIN, "-t", "-c", d.conf_path], capture_output=True, text=True,
                           timeout=60)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn('smtpd_metrics_listen: bad address "127.0.0.1:99999"', p.stderr)
        with self.assertRaises(RuntimeError) as e:
            d.start()
        self.assertIn('smtpd_metrics_listen: bad address "127.0.0.1:99999"', str(e.exception))
        d.stop()

    def test_port_taken(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            s.listen(1)
            d = h.Smtpd(smtpd_metrics_listen="127.0.0.1:%d" % s.getsockname()[1])
            with self.assertRaises(RuntimeError) as e:
                d.start()
            self.assertIn("smtpd_metrics_listen: listen on 127.0.0.1:%d: Address already in use"
                          % s.getsockname()[1], str(e.exception))
            d.stop()


if __name__ == "__main__":
    h.main()
