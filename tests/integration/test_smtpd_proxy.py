#!/usr/bin/env python3
"""test_smtpd_proxy.py - postern-smtpd behind a real HAProxy (send-proxy and
send-proxy-v2) on plain, STARTTLS and implicit-TLS listeners: the client's
own address reaches the spool and the per-address limit; untrusted peers,
missing, malformed, late and oversized headers are closed without a banner."""

import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import smtpd as h  # noqa: E402

HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"
PER_IP = "421 4.3.2 Client connection limit reached"
QUEUED = h.QUEUED_RE
V2SIG = b"\r\n\r\n\x00\r\nQUIT\n"


class Haproxy:
    """A private HAProxy in TCP mode: one frontend per (name, backend port, option)."""

    def __init__(self, routes):
        self.dir = tempfile.mkdtemp(prefix="postern-haproxy-")
        self.ports = {}
        cfg = ["global", "    maxconn 200",
               "defaults", "    mode tcp", "    timeout connect 5s",
               "    timeout client 60s", "    timeout server 60s"]
        for name, backend_port, option in routes:
            port = h.free_port()
            self.ports[name] = port
            cfg += ["frontend fe_%s" % name, "    bind 127.0.0.1:%d" % port,
                    "    default_backend be_%s" % name,
                    "backend be_%s" % name,
                    "    server smtpd 127.0.0.1:%d %s" % (backend_port, option)]
        self.conf = os.path.join(self.dir, "haproxy.cfg")
        with open(self.conf, "w") as f:
            f.write("\n".join(cfg) + "\n")
        self.log = open(os.path.join(self.dir, "haproxy.log"), "wb")
        self.proc = subprocess.Popen([HAPROXY, "-db", "-f", self.conf], stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=self.log)
        deadline = time.time() + 15
        while not all(h._listening(p) for p in self.ports.values()):
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("haproxy did not start: %s" % open(self.log.name).read())
            time.sleep(0.05)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def envelope_field(data, key):
    m = re.search(rb"^" + key.encode() + rb" (.*)$", data, re.M)
    return m.group(1).decode() if m else None


@unittest.skipUnless(os.access(HAPROXY, os.X_OK), "haproxy is not installed (scripts/install-deps.sh)")
class BehindHaproxy(h.SmtpdTestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = h.Smtpd(tls_listen=True, smtpd_proxy_protocol="127.0.0.1/32, ::1",
                        smtpd_proxy_timeout="2s", smtpd_max_connections_per_ip=2).start()
        cls.ha = Haproxy([("v1", cls.d.port, "send-proxy"),
                          ("v2", cls.d.port, "send-proxy-v2"),
                          ("tls", cls.d.tls_port, "send-proxy-v2")])

    @classmethod
    def tearDownClass(cls):
        cls.ha.stop()
        cls.d.stop()

    def via(self, name, source, **kw):
        return h.Client(self.ha.ports[name], source=source, **kw)

    def queue_one(self, c):
        """EHLO (and STARTTLS, which the daemon requires, on a plain connection), one
        message; returns the spooled envelope."""
        c.ehlo()
        if c.tls_version() is None:
            c.starttls()
            c.ehlo()
        r = c.send_message("Subject: proxied\r\n\r\nhello\r\n")
        m = QUEUED.match(r)
        self.assertTrue(m, r)
        self.assertEqual(c.cmd("QUIT"), "221 2.0.0 Bye")
        return self.d.spool_data(m.group(1))

    def check_client(self, data, source, sock):
        self.assertEqual(envelope_field(data, "client-address"), source)
        # The port is the client's own, not HAProxy's towards us.
        self.assertEqual(envelope_field(data, "client-port"), str(sock.getsockname()[1]))

    def test_v1_plain(self):
        with self.via("v1", "127.0.0.2") as c:
            self.assertTrue(c.banner.startswith("220 " + h.HOSTNAME), c.banner)
            port = c.sock.getsockname()[1]
            data = self.queue_one(c)
        self.assertEqual(envelope_field(data, "client-address"), "127.0.0.2")
        self.assertEqual(envelope_field(data, "client-port"), str(port))
        self.assertRegex(self.d.log_text(), r"connect client=127\.0\.0\.2:%d proxy=127\.0\.0\.1:\d+\n"
                         % port)

    def test_v2_plain(self):
        with self.via("v2", "127.0.0.3") as c:
            port = c.sock.getsockname()[1]
            data = self.queue_one(c)
        self.assertEqual(envelope_field(data, "client-address"), "127.0.0.3")
        self.assertEqual(envelope_field(data, "client-port"), str(port))

    def test_v2_starttls(self):
        with self.via("v2", "127.0.0.4") as c:
            port = c.sock.getsockname()[1]
            data = self.queue_one(c)
        self.assertEqual(envelope_field(data, "client-address"), "127.0.0.4")
        self.assertEqual(envelope_field(data, "client-port"), str(port))

    def test_v2_implicit_tls(self):
        with self.via("tls", "127.0.0.5", tls=True) as c:
            self.assertTrue(c.banner.startswith("220 " + h.HOSTNAME), c.banner)
            self.assertIsNotNone(c.tls_version())
            port = c.sock.getsockname()[1]
            data = self.queue_one(c)
        self.assertEqual(envelope_field(data, "client-address"), "127.0.0.5")
        self.assertEqual(envelope_field(data, "client-port"), str(port))

    def test_per_ip_limit_counts_real_clients(self):
        # Two allowed per address: a third from 127.0.0.6 is refused, while
        # 127.0.0.7 (through the same HAProxy) is welcome.
        a1, a2 = self.via("v2", "127.0.0.6"), self.via("v1", "127.0.0.6")
        try:
            self.assertTrue(a1.banner.startswith("220 "), a1.banner)
            self.assertTrue(a2.banner.startswith("220 "), a2.banner)
            with self.via("v2", "127.0.0.6") as a3:
                self.assertEqual(a3.banner, PER_IP)
                self.assertTrue(a3.closed())
            b1, b2 = self.via("v2", "127.0.0.7"), self.via("tls", "127.0.0.7", tls=True)
            self.assertTrue(b1.banner.startswith("220 "), b1.banner)
            self.assertTrue(b2.banner.startswith("220 "), b2.banner)
            b1.close()
            b2.close()
            self.assertEqual(a1.cmd("QUIT"), "221 2.0.0 Bye")
        finally:
            a1.close()
            a2.close()
        # Their places are given back: 127.0.0.6 is welcome again.
        banner = None
        for _ in range(100):
            with self.via("v2", "127.0.0.6") as c:
                banner = c.banner
            if banner.startswith("220 "):
                break
            time.sleep(0.05)
        self.assertTrue(banner.startswith("220 "), banner)

    # -- bad peers, straight to postern-smtpd

    def raw(self, source="127.0.0.1", port=None):
        s = socket.create_connection(("127.0.0.1", port or self.d.port), 10,
                                     source_address=(source, 0))
        return s

    def assert_dropped(self, s, timeout=10.0, logged=True):
        """Closed with no byte sent (no banner), and logged once with the peer."""
        peer = "%s:%d" % s.getsockname()
        s.settimeout(timeout)
        try:
            got = s.recv(4096)
        except ConnectionResetError:
            got = b""
        s.close()
        self.assertEqual(got, b"")
        needle = "proxy=%s dropped, no banner" % peer
        if logged:
            self.assertTrue(self.d.wait_log(needle, 5), "no log line %r" % needle)
            self.assertEqual(self.d.log_text().count(needle), 1)
        else:
            time.sleep(0.2)
            self.assertNotIn(needle, self.d.log_text())
        return peer

    def test_untrusted_source(self):
        s = self.raw("127.0.0.2")
        s.sendall(b"PROXY TCP4 192.0.2.1 127.0.0.1 1234 25\r\n")
        self.assertIn("not in smtpd_proxy_protocol", self.log_of(self.assert_dropped(s)))

    def test_untrusted_source_tls_listener(self):
        self.assert_dropped(self.raw("127.0.0.9", self.d.tls_port))

    def test_trusted_without_header(self):
        s = self.raw()
        s.sendall(b"EHLO client.example\r\n")
        self.assertIn("not a PROXY header", self.log_of(self.assert_dropped(s)))

    def test_trusted_silent(self):
        t0 = time.time()
        s = self.raw()
        self.assertIn("no PROXY header in time", self.log_of(self.assert_dropped(s)))
        self.assertGreaterEqual(time.time() - t0, 1.5)

    def test_malformed_header(self):
        s = self.raw()
        s.sendall(b"PROXY TCP4 192.0.2.1 127.0.0.1 99999 25\r\n")
        self.assertIn("bad address or port in v1 line", self.log_of(self.assert_dropped(s)))

    def test_truncated_header(self):
        s = self.raw()
        s.sendall(V2SIG + b"\x21\x11\x00\x0c\x7f\x00")
        s.shutdown(socket.SHUT_WR)
        self.assertIn("truncated PROXY header", self.log_of(self.assert_dropped(s)))

    def test_oversized_header(self):
        s = self.raw()
        s.sendall(V2SIG + b"\x21\x11\xff\xff")
        self.assertIn("v2 header oversized", self.log_of(self.assert_dropped(s)))

    def test_v2_local_closed_quietly(self):
        s = self.raw()
        s.sendall(V2SIG + b"\x20\x00\x00\x00")
        self.assert_dropped(s, logged=False)

    def test_raw_v2_tlvs_then_pipelined_ehlo(self):
        # The header's TLVs are skipped; bytes right behind it are SMTP.
        s = self.raw()
        addr = socket.inet_aton("198.51.100.9") + socket.inet_aton("127.0.0.1")
        tlv = b"\x05\x00\x04abcd"
        body = addr + struct.pack("!HH", 4321, 25) + tlv
        s.sendall(V2SIG + b"\x21\x11" + struct.pack("!H", len(body)) + body)
        s.close()
        self.assertTrue(self.d.wait_log("connect client=198.51.100.9:4321", 5))

    def log_of(self, peer):
        return "\n".join(ln for ln in self.d.log_text().splitlines() if "proxy=%s " % peer in ln)


@unittest.skipUnless(os.access(HAPROXY, os.X_OK), "haproxy is not installed (scripts/install-deps.sh)")
class HealthChecks(h.SmtpdTestCase):
    def test_check_send_proxy_v2_is_local_and_quiet(self):
        # HAProxy's checks with check-send-proxy and send-proxy-v2 say LOCAL: closed, not logged as drops.
        with h.Smtpd(smtpd_proxy_protocol="127.0.0.1") as d:
            ha = Haproxy([("hc", d.port, "send-proxy-v2 check check-send-proxy inter 100ms")])
            try:
                self.assertTrue(d.wait_log("PROXY v2 LOCAL (health check), closed", 10))
                self.assertTrue(self.wait_for(
                    lambda: d.log_text().count("PROXY v2 LOCAL (health check)") >= 3, 10))
                self.assertNotIn("dropped", d.log_text())
                self.assertNotIn(" connect client=", d.log_text())
            finally:
                ha.stop()

    def test_contrib_config_is_valid(self):
        cfg = os.path.join(h.TOP_SRCDIR, "contrib", "haproxy", "haproxy.cfg")
        p = subprocess.run([HAPROXY, "-c", "-f", cfg], capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        with open(cfg) as f:
            text = f.read()
        self.assertEqual(text.count("send-proxy-v2"), 2)
        # The postern.conf lines it documents are accepted by postern-smtpd itself.
        lines = re.findall(r"^#   (smtpd_\w+ = .*)$", text, re.M)
        self.assertIn("smtpd_proxy_protocol = 127.0.0.1/32", lines)
        d = h.Smtpd(tls=True, **dict(ln.split(" = ", 1) for ln in lines))
        p = subprocess.run([h.SMTPD_BIN, "-n", "-c", d.conf_path], capture_output=True, text=True,
                           timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("smtpd_proxy_protocol = 127.0.0.1/32", p.stdout)


class Config(h.SmtpdTestCase):
    def test_bad_network_refused_at_start(self):
        d = h.Smtpd(smtpd_proxy_protocol="127.0.0.1/40")
        with self.assertRaises(RuntimeError) as e:
            d.start()
        self.assertIn('smtpd_proxy_protocol: bad network "127.0.0.1/40"', str(e.exception))
        d.stop()

    def test_bad_network_named_by_t(self):
        d = h.Smtpd(smtpd_proxy_protocol="10.0.0.0/8, not-an-address")
        p = subprocess.run([h.SMTPD_BIN, "-t", "-c", d.conf_path], capture_output=True,
                           text=True, timeout=60)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn('smtpd_proxy_protocol: bad network "not-an-address"', p.stderr)

    def test_off_by_default(self):
        # Without the key a header is just a bad command: PROXY is no SMTP verb.
        with h.Smtpd() as d, d.client() as c:
            self.assertTrue(c.banner.startswith("220 "), c.banner)
            self.assertEqual(c.cmd("PROXY TCP4 1.2.3.4 1.2.3.4 1 2"),
                             "502 5.5.1 Unrecognized command")


if __name__ == "__main__":
    h.main()
