#!/usr/bin/env python3
"""test_relay_metrics.py - postern-relay's /metrics (relay_metrics_listen, or the
contract's metrics_listen): every line parses as Prometheus text format, and
between two scrapes the counters move by exactly the traffic the scripted next
hop answered (250, 451, 550 and the DSNs of the 550s); the queue gauges show a
deferred message (and one in flight) and fall back to 0 once it is delivered; TLS sessions and
failures with a STARTTLS next hop; stuck HTTP clients do not hold deliveries;
-t and the start name a bad address by file, line and key; the man page and
the alert rules name only live series."""

import os
import re
import socket
import subprocess
import threading
import time
import unittest
import urllib.request

import relay as R
from test_smtpd_metrics import alert_rule_names, parse

SENDER = "alice@example.com"


def scrape(port):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=10 * R.SLOW) as r:
        assert r.status == 200
        assert r.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
        return parse(r.read().decode())


def delta(before, after, name, labels=""):
    return after.get((name, labels), 0) - before.get((name, labels), 0)


def families(samples):
    return {re.sub(r"_(bucket|sum|count)$", "", n) if n.endswith(("_bucket", "_sum", "_count"))
            and "seconds" in n else n for n, _ in samples}


class Base(unittest.TestCase):
    def wait_for(self, pred, timeout=20.0):
        deadline = time.time() + timeout * R.SLOW
        while time.time() < deadline:
            if pred():
                return True
            time.sleep(0.05)
        return pred()

    def relay(self, port, **kw):
        r = R.Relay(port, **kw)
        self.addCleanup(r.stop)
        return r.start()


class Traffic(Base):
    def setUp(self):
        self.defer = True
        self.lock = threading.Lock()
        self.answered_451 = 0

        def rcpt(addr, n):
            if addr.startswith("fail"):
                return "550 5.1.1 No such user"
            if addr.startswith("defer"):
                with self.lock:
                    if self.defer:
                        self.answered_451 += 1
                        return "451 4.3.0 Try again later"
            return "250 2.1.5 Ok"
        self.sink = R.Sink(rcpt=rcpt)
        self.addCleanup(self.sink.close)
        self.mport = R.harness.free_port()
        self.r = self.relay(self.sink.port, relay_metrics_listen="127.0.0.1:%d" % self.mport)

    def scrape(self):
        return scrape(self.mport)

    def gauges(self):
        s = self.scrape()
        return (s[("postern_relay_queue_messages", "")],
                s[("postern_relay_oldest_message_age_seconds", "")],
                s[("postern_relay_deliveries_in_flight", "")])

    def test_counters_move_by_the_traffic(self):
        n_ok, n_fail = 3, 2
        before = self.scrape()
        ids = [self.r.put(SENDER, ["ok%d@example.org" % i]) for i in range(n_ok)]
        fails = [self.r.put(SENDER, ["fail%d@example.org" % i]) for i in range(n_fail)]
        for mid in ids:
            self.r.wait_state(mid, "delivered")
        for mid in fails:
            self.r.wait_state(mid, "failed")
        # Each failure's DSN goes to the sender through the same next hop.
        got = self.sink.wait_messages(n_ok + n_fail)
        self.assertEqual(sum(1 for m in got if m.rcpts == [SENDER]), n_fail)
        self.assertTrue(self.wait_for(lambda: self.gauges() == (0, 0, 0)), self.gauges())
        self.r.wait_log("removed: delivered", count=n_ok + n_fail)
        after = self.scrape()
        d = lambda *k: delta(before, after, *k)  # noqa: E731
        delivered = n_ok + n_fail          # the DSNs are delivered messages too
        self.assertEqual(d("postern_relay_deliveries_total", '{result="delivered"}'), delivered)
        self.assertEqual(d("postern_relay_deliveries_total", '{result="failed"}'), n_fail)
        self.assertEqual(d("postern_relay_deliveries_total", '{result="deferred"}'), 0)
        self.assertEqual(d("postern_relay_dsn_total"), n_fail)
        self.assertEqual(d("postern_relay_messages_total", '{result="delivered"}'), delivered)
        self.assertEqual(d("postern_relay_messages_total", '{result="failed"}'), n_fail)
        self.assertEqual(d("postern_relay_delivery_seconds_count"), delivered)
        # Each 550 to the lone RCPT, and the 554 to the DATA pipelined behind it.
        self.assertEqual(d("postern_relay_replies_total", '{class="5xx"}'), 2 * n_fail)
        self.assertEqual(d("postern_relay_replies_total", '{class="4xx"}'), 0)
        self.assertGreaterEqual(d("postern_relay_connections_total"), 1)
        self.assertLessEqual(d("postern_relay_connections_total"), self.sink.sessions)
        self.assertEqual(d("postern_relay_connection_failures_total"), 0)

        # A message deferred by 451: in the queue, with its age, until it goes.
        before = after
        mid = self.r.put(SENDER, ["defer@example.org"], arrival_ms=int(time.time() * 1000) - 120000)
        self.assertTrue(self.wait_for(lambda: self.answered_451 >= 2))
        queued, oldest, _ = self.gauges()
        self.assertEqual(queued, 1)
        self.assertGreaterEqual(oldest, 120)
        self.assertLess(oldest, 120 + 60 * R.SLOW)
        with self.lock:
            self.defer = False
        self.r.wait_state(mid, "delivered")
        self.assertTrue(self.wait_for(lambda: self.gauges() == (0, 0, 0)), self.gauges())
        self.r.wait_log("removed: delivered", count=n_ok + n_fail + 1)
        after = self.scrape()
        d = lambda *k: delta(before, after, *k)  # noqa: E731
        self.assertEqual(d("postern_relay_deliveries_total", '{result="deferred"}'),
                         self.answered_451)
        self.assertEqual(d("postern_relay_replies_total", '{class="4xx"}'), self.answered_451)
        self.assertEqual(d("postern_relay_replies_total", '{class="5xx"}'), self.answered_451)
        self.assertEqual(d("postern_relay_deliveries_total", '{result="delivered"}'), 1)
        self.assertEqual(d("postern_relay_deliveries_total", '{result="failed"}'), 0)
        self.assertEqual(d("postern_relay_delivery_seconds_count"), 1)
        # Two minutes old at its 250: above the 60 s bucket, inside the 300 s one.
        self.assertEqual(d("postern_relay_delivery_seconds_bucket", '{le="60"}'), 0)
        self.assertEqual(d("postern_relay_delivery_seconds_bucket", '{le="300"}'), 1)
        self.assertGreaterEqual(d("postern_relay_delivery_seconds_sum"), 120)
        # Totals since start agree with each other too.
        self.assertEqual(after[("postern_relay_delivery_seconds_count", "")],
                         after[("postern_relay_deliveries_total", '{result="delivered"}')])

    def test_slow_and_garbage_http_clients_do_not_hold_deliveries(self):
        # One event loop serves both: stuck HTTP clients must cost the queue nothing.
        socks = []
        try:
            for i in range(200):
                c = socket.create_connection(("127.0.0.1", self.mport), 10)
                c.sendall(b"GET /metrics HTTP/1.1\r\nX-Slow: " if i % 2 else
                          b"\x16\x03\x01\x00\xff garbage\r\n\r\n")
                socks.append(c)
            t0 = time.time()
            self.r.wait_state(self.r.put(SENDER, ["busy@example.org"]), "delivered")
            self.assertLess(time.time() - t0, 10 * R.SLOW)
            self.assertIn(("postern_relay_queue_messages", ""), self.scrape())
        finally:
            for c in socks:
                c.close()

    def test_man_page_lists_every_metric(self):
        with open(os.path.join(R.harness.TOP_SRCDIR, "doc", "postern-relay.8")) as f:
            page = f.read()
        start = page.index(".SH METRICS")
        section = page[start:page.index(".SH", start + 4)]
        documented = set(re.findall(r"^\.BR (postern_relay_\w+)", section, re.M))
        self.assertEqual(documented, families(self.scrape()))

    def test_alert_rules_use_real_metrics(self):
        names = alert_rule_names("postern_relay_")
        self.assertTrue(names)
        self.assertLessEqual(names, families(self.scrape()))


class NoNextHop(Base):
    def test_connection_failures_and_contract_key(self):
        # metrics_listen (product.md) stands for an empty relay_metrics_listen;
        # the next hop's port has nobody listening.
        mport, dead = R.harness.free_port(), R.harness.free_port()
        r = self.relay(dead, metrics_listen="127.0.0.1:%d" % mport)
        before = scrape(mport)
        r.put(SENDER, ["bob@example.org"])
        r.wait_log("status=deferred", count=2)

        def settled():
            s = scrape(mport)
            fails = delta(before, s, "postern_relay_connection_failures_total")
            deferred = delta(before, s, "postern_relay_deliveries_total", '{result="deferred"}')
            return fails >= 2 and fails == deferred and s[("postern_relay_queue_messages", "")] == 1
        self.assertTrue(self.wait_for(settled))
        after = scrape(mport)
        self.assertEqual(delta(before, after, "postern_relay_connections_total"), 0)
        self.assertEqual(delta(before, after, "postern_relay_deliveries_total",
                               '{result="delivered"}'), 0)


class InFlight(Base):
    def test_gauge_while_the_next_hop_thinks(self):
        from relay_hop import ScriptedHop
        # The next hop sits on its reply to the end of data: the delivery is in flight meanwhile.
        with ScriptedHop(data_delay=8 * R.SLOW) as hop:
            mport = R.harness.free_port()
            r = self.relay(hop.port, relay_metrics_listen="127.0.0.1:%d" % mport)
            mid = r.put(SENDER, ["bob@example.org"])

            def gauges():
                s = scrape(mport)
                return (s[("postern_relay_deliveries_in_flight", "")],
                        s[("postern_relay_queue_messages", "")])
            self.assertTrue(self.wait_for(lambda: gauges() == (1, 1), 6))
            r.wait_state(mid, "delivered", timeout=30)
            self.assertTrue(self.wait_for(lambda: gauges() == (0, 0)), gauges())
            self.assertEqual(r.stop(), 0)


class Tls(Base):
    def test_sessions_and_failures_by_version(self):
        from relay_hop import ScriptedHop
        import shutil
        import tempfile
        d = tempfile.mkdtemp(prefix="postern-relay-tls-")
        self.addCleanup(shutil.rmtree, d, True)
        pair = R.harness.make_cert(d, cn="hop.test")
        with ScriptedHop(tls=pair) as hop:
            mport = R.harness.free_port()
            r = self.relay(hop.port, relay_tls="may", relay_metrics_listen="127.0.0.1:%d" % mport)
            before = scrape(mport)
            r.wait_state(r.put(SENDER, ["bob@example.org"]), "delivered")
            m = re.search(r"tls=(TLSv1\.[23]) cipher=", r.log_text())
            self.assertTrue(m, r.log_text()[-2000:])
            after = scrape(mport)
            self.assertEqual(delta(before, after, "postern_relay_tls_sessions_total",
                                   '{version="%s"}' % m.group(1)), 1)
            self.assertEqual(delta(before, after, "postern_relay_tls_failures_total"), 0)
            self.assertEqual(r.stop(), 0)
            # verify: the self-signed certificate is refused; a TLS failure, the message deferred.
            mport = R.harness.free_port()
            r = self.relay(hop.port, relay_tls="verify", relay_metrics_listen="127.0.0.1:%d" % mport)
            before = scrape(mport)
            r.put(SENDER, ["bob@example.org"])
            r.wait_log("status=deferred")
            self.assertTrue(self.wait_for(lambda: delta(
                before, scrape(mport), "postern_relay_tls_failures_total") >= 1))
            after = scrape(mport)
            self.assertEqual(sum(delta(before, after, "postern_relay_tls_sessions_total",
                                       '{version="%s"}' % v) for v in ("TLSv1.3", "TLSv1.2", "other")), 0)
            self.assertEqual(after[("postern_relay_queue_messages", "")], 1)
            self.assertEqual(r.stop(), 0)


class Config(Base):
    def check(self, conf):
        return subprocess.run([R.RELAY_BIN, "-t", "-c", conf], capture_output=True, text=True,
                              timeout=60)

    def test_bad_address_named_with_file_and_line(self):
        sink = R.Sink()
        self.addCleanup(sink.close)
        r = R.Relay(sink.port, relay_metrics_listen="127.0.0.1:99999")
        with open(r.conf_path) as f:
            line = [i for i, ln in enumerate(f, 1) if ln.startswith("relay_metrics_listen")][0]
        want = '%s:%d: relay_metrics_listen: bad address "127.0.0.1:99999"' % (r.conf_path, line)
        p = self.check(r.conf_path)
        self.assertEqual(p.returncode, 1)
        self.assertIn(want, p.stderr)
        self.assertNotIn("OK", p.stdout)
        p = subprocess.run([R.RELAY_BIN, "-c", r.conf_path], capture_output=True, text=True,
                           timeout=60)
        self.assertEqual(p.returncode, 1)
        self.assertIn(want, p.stderr)
        # Through the contract's key, the error names that key and its line.
        r = R.Relay(sink.port, metrics_listen="nohost")
        p = self.check(r.conf_path)
        self.assertEqual(p.returncode, 1)
        self.assertRegex(p.stderr, r'postern.conf:\d+: metrics_listen: bad address "nohost"')
        # A good one passes -t.
        r = R.Relay(sink.port, relay_metrics_listen="127.0.0.1:%d" % R.harness.free_port())
        p = self.check(r.conf_path)
        self.assertEqual(p.returncode, 0, p.stderr)

    def test_port_taken(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            s.listen(1)
            port = s.getsockname()[1]
            r = R.Relay(1, relay_metrics_listen="127.0.0.1:%d" % port)
            p = subprocess.run([R.RELAY_BIN, "-c", r.conf_path], capture_output=True, text=True,
                               timeout=60)
        self.assertEqual(p.returncode, 1)
        self.assertRegex(p.stderr, r"postern.conf:\d+: relay_metrics_listen: listen on "
                         r"127.0.0.1:%d: Address already in use" % port)
        # Refused before it took the spool's lock.
        self.assertFalse(os.path.exists(os.path.join(r.spool, "relay.lock")))


if __name__ == "__main__":
    R.main()
