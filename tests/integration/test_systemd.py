#!/usr/bin/env python3
"""test_systemd.py - sd_notify and socket activation without systemd: the test
binds the NOTIFY_SOCKET datagram socket itself and reads READY=1 (after the
listeners are bound), RELOADING=1 then READY=1 on SIGHUP, STOPPING=1 on
SIGTERM, from postern-smtpd, postern-milter and postern-relay;
systemd-socket-activate passes named listeners (plain and implicit TLS) to
postern-smtpd, and one socket (unix or TCP) to postern-milter; systemd-analyze
verify checks the units of contrib/systemd."""

import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import smtpd as h  # noqa: E402
import postfix  # noqa: E402

MILTER_BIN = os.path.join(h.TOP_BUILDDIR, "milter", "postern-milter")
ACTIVATE = shutil.which("systemd-socket-activate")
ANALYZE = shutil.which("systemd-analyze")
UNITS = os.path.join(h.TOP_SRCDIR, "contrib", "systemd")
BUILT_UNITS = os.path.join(h.TOP_BUILDDIR, "contrib", "systemd")
RELAY_BIN = os.path.join(h.TOP_BUILDDIR, "relay", "postern-relay")


def built_with_systemd():
    try:
        with open(os.path.join(h.TOP_BUILDDIR, "autoconf.h")) as f:
            return "#define HAVE_LIBSYSTEMD 1" in f.read()
    except OSError:
        return False


class NotifySocket:
    """The datagram socket systemd would listen on; NOTIFY_SOCKET for the children started inside."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="postern-notify-")
        self.path = os.path.join(self.dir, "notify")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)

    def __enter__(self):
        os.environ["NOTIFY_SOCKET"] = self.path
        return self

    def __exit__(self, *a):
        os.environ.pop("NOTIFY_SOCKET", None)
        self.sock.close()
        shutil.rmtree(self.dir, ignore_errors=True)
        return False

    def next(self, timeout=20.0):
        """The next message as a dict of its KEY=value lines."""
        self.sock.settimeout(timeout * h.SLOW)
        data = self.sock.recv(4096).decode()
        return dict(ln.split("=", 1) for ln in data.split("\n") if "=" in ln)

    def expect(self, key, timeout=20.0):
        """Messages until one carries key=1 (STATUS-only updates may come between); returns it."""
        deadline = time.time() + timeout * h.SLOW
        while True:
            msg = self.next(max(deadline - time.time(), 0.1))
            if msg.get(key) == "1":
                return msg
            if set(msg) - {"STATUS"}:
                raise AssertionError("expected %s=1, got %r" % (key, msg))


@unittest.skipUnless(built_with_systemd(), "built without libsystemd (configure --with-systemd)")
class Notify(h.SmtpdTestCase):
    def test_smtpd_ready_reload_stop(self):
        with NotifySocket() as n:
            d = h.Smtpd()
            d.start()
            msg = n.expect("READY")
            # Ready means bound: a client is served at once.
            self.assertTrue(h._listening(d.port))
            self.assertRegex(msg.get("STATUS", ""), r"^0 connection\(s\), 0 since start$")
            with d.client() as c:
                self.assertTrue(c.banner.startswith("220 "), c.banner)
                # The periodic STATUS= update (every 5 s, when it changed).
                msg = n.next(30)
                self.assertEqual(msg, {"STATUS": "1 connection(s), 1 since start"})
                d.signal(signal.SIGHUP)
                msg = n.expect("RELOADING")
                self.assertRegex(msg.get("MONOTONIC_USEC", ""), r"^\d+$")
                msg = n.expect("READY")
                self.assertRegex(msg["STATUS"], r"^1 connection\(s\), 1 since start$")
                self.assertEqual(c.cmd("QUIT"), "221 2.0.0 Bye")
            d.signal(signal.SIGTERM)
            n.expect("STOPPING")
            self.assertEqual(d.stop(), 0)

    def test_smtpd_not_ready_when_start_fails(self):
        with NotifySocket() as n:
            d = h.Smtpd(smtpd_proxy_protocol="300.1.1.1")
            with self.assertRaises(RuntimeError):
                d.start()
            n.sock.settimeout(0.5)
            with self.assertRaises(socket.timeout):
                n.sock.recv(4096)
            d.stop()

    @unittest.skipUnless(os.access(MILTER_BIN, os.X_OK), "postern-milter not built")
    def test_milter_ready_reload_stop(self):
        with NotifySocket() as n:
            port = h.free_port()
            m = postfix.Milter(MILTER_BIN, {"milter_listen": "inet:127.0.0.1:%d" % port,
                                            "milter_user": ""}, name="notify-milter")
            m.start(wait_port_num=port)
            try:
                msg = n.expect("READY")
                self.assertEqual(msg.get("STATUS"),
                                 "listening on inet:127.0.0.1:%d, 0 SMTP session(s)" % port)
                m.hup()
                n.expect("RELOADING")
                n.expect("READY")
                m.proc.send_signal(signal.SIGTERM)
                n.expect("STOPPING")
                self.assertEqual(m.proc.wait(30), 0)
            finally:
                m.cleanup()

    @unittest.skipUnless(os.access(RELAY_BIN, os.X_OK), "postern-relay not built")
    def test_relay_ready_status_reload_stop(self):
        import relay as R
        with NotifySocket() as n:
            sink = R.Sink(rcpt=lambda a, k: "451 4.3.0 Try again later")
            r = R.Relay(sink.port)
            try:
                r.start()
                # Ready means the queue is open and scanned.
                msg = n.expect("READY")
                self.assertEqual(msg.get("STATUS"), "0 message(s) queued, 0 delivery(ies) in flight")
                r.put("alice@example.com", ["bob@example.org"])
                deadline = time.time() + 30 * h.SLOW
                while not re.match(r"^1 message\(s\) queued, [01] delivery\(ies\) in flight$",
                                   msg.get("STATUS", "")):
                    msg = n.next(max(deadline - time.time(), 0.1))
                r.proc.send_signal(signal.SIGHUP)
                n.expect("RELOADING")
                msg = n.expect("READY")
                self.assertRegex(msg.get("STATUS", ""), r"^1 message\(s\) queued")
                r.proc.send_signal(signal.SIGTERM)
                n.expect("STOPPING")
                self.assertEqual(r.stop(), 0)
            finally:
                r.stop()
                sink.close()

    @unittest.skipUnless(os.access(RELAY_BIN, os.X_OK), "postern-relay not built")
    def test_relay_not_ready_when_start_fails(self):
        import relay as R
        with NotifySocket() as n:
            r = R.Relay(1, relay_metrics_listen="127.0.0.1:99999")
            with self.assertRaises(AssertionError):
                r.start()
            self.assertNotEqual(r.stop(), 0)
            n.sock.settimeout(0.5)
            with self.assertRaises(socket.timeout):
                n.sock.recv(4096)
            # relay_host empty is a clean exit, not a failed start: READY=1 first.
            r = R.Relay(1, relay_host="")
            p = subprocess.run([RELAY_BIN, "-c", r.conf_path], capture_output=True, text=True,
                               timeout=30)
            self.assertEqual(p.returncode, 0, p.stderr)
            msg = n.expect("READY")
            self.assertEqual(msg.get("STATUS"), "relay_host is empty: nothing to relay to")


@unittest.skipUnless(built_with_systemd() and ACTIVATE, "needs libsystemd and systemd-socket-activate")
class SocketActivation(h.SmtpdTestCase):
    def test_named_plain_and_tls_listeners(self):
        # The config's own listen addresses are never bound: the unit's sockets replace them.
        d = h.Smtpd(tls_listen=True)
        plain, tls = h.free_port(), h.free_port()
        log = open(d.log_path, "ab")
        p = subprocess.Popen([ACTIVATE, "-l", "127.0.0.1:%d" % plain, "-l", "127.0.0.1:%d" % tls,
                              "--fdname=smtp:submissions", h.SMTPD_BIN, "-c", d.conf_path, "-d"],
                             stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        try:
            self.assertTrue(self.wait_for(lambda: h._listening(plain) and h._listening(tls), 15))
            # The first connection starts the daemon (systemd-socket-activate waits for one).
            with h.Client(plain, timeout=30) as c:
                self.assertTrue(c.banner.startswith("220 " + h.HOSTNAME), c.banner)
                c.ehlo()
                c.starttls()
                self.assertEqual(c.cmd("QUIT"), "221 2.0.0 Bye")
            with h.Client(tls, tls=True, timeout=30) as c:
                self.assertTrue(c.banner.startswith("220 " + h.HOSTNAME), c.banner)
                self.assertIsNotNone(c.tls_version())
            text = d.log_text()
            self.assertIn('listening on fd 3 "smtp" from systemd', text)
            self.assertIn('listening on fd 4 "submissions" from systemd (tls)', text)
            self.assertFalse(h._listening(d.port))
            self.assertFalse(h._listening(d.tls_port))
        finally:
            p.send_signal(signal.SIGTERM)
            try:
                rc = p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
                rc = p.wait()
            log.close()
        self.assertEqual(rc, 0, d.log_text()[-3000:])


@unittest.skipUnless(built_with_systemd() and ACTIVATE and os.access(MILTER_BIN, os.X_OK),
                     "needs libsystemd, systemd-socket-activate and postern-milter")
class MilterSocketActivation(h.SmtpdTestCase):
    """postern-milter serving on the socket systemd-socket-activate passes (unix and TCP):
    a real milter conversation through it from postern-smtpd, READY, a prompt SIGTERM;
    milter_listen (a port nobody else uses) never bound; bad sets of sockets refused."""

    def launch(self, m, listens, names):
        """systemd-socket-activate binding listens and passing them named names to the milter."""
        m.write_config()
        tmp = tempfile.mkdtemp(prefix="postern-act-tmp-")   # TMPDIR: its placeholder goes there
        self.addCleanup(shutil.rmtree, tmp, True)
        log = open(m.logfile, "ab")
        self.addCleanup(log.close)
        argv = [ACTIVATE] + [a for ln in listens for a in ("-l", ln)] + ["--fdname=" + ":".join(names)]
        # It passes on only TERM, PATH, USER and HOME unless told (-E): the notify socket,
        # TMPDIR and a checker's settings (scripts/test.sh) too.
        env = dict(os.environ, TMPDIR=tmp)
        argv += ["-E" + k for k in sorted(env) if k in ("NOTIFY_SOCKET", "TMPDIR") or
                 k.startswith(("ASAN_", "UBSAN_", "LSAN_", "LD_", "VALGRIND"))]
        argv += shlex.split(os.environ.get("MILTER_WRAPPER", "")) + [MILTER_BIN, "-c", m.conf, "-d"]
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env)
        self.addCleanup(lambda: p.poll() is None and (p.kill(), p.wait()))
        return p, tmp

    def serve(self, listen, addr, where):
        ignored = h.free_port()
        m = postfix.Milter(MILTER_BIN, {"milter_listen": "inet:127.0.0.1:%d" % ignored,
                                        "milter_user": ""}, name="act-milter")
        self.addCleanup(m.cleanup)
        with NotifySocket() as n:
            p, tmp = self.launch(m, [listen], ["milter"])
            # The first connection makes systemd-socket-activate start the milter.
            self.assertTrue(postfix.wait_port(addr, timeout=15 * h.SLOW, proc=p), m.log())
            msg = n.expect("READY", 30)
            self.assertEqual(msg.get("STATUS"), "listening on %s, 0 SMTP session(s)" % where)
            self.assertIn("socket activation: serving on %s (descriptor" % where, m.log())
            self.assertFalse(h._listening(ignored))
            # The placeholder libmilter opened first left nothing behind (a checker's own
            # files, valgrind's vgdb pipes, may be there).
            self.assertEqual([f for f in os.listdir(tmp) if f.startswith("postern-milter.")], [])
            os.environ.pop("NOTIFY_SOCKET")     # the milter's alone: postern-smtpd sends none
            with h.Smtpd(smtpd_milters=where) as d:
                with d.client() as c:
                    c.ehlo()
                    # The milter's verdict, through the socket systemd passed.
                    self.assertEqual(c.cmd("MAIL FROM:<>"), "550 5.7.1 Empty sender not allowed")
                    self.assertEqual(c.cmd("QUIT"), "221 2.0.0 Bye")
                with d.client() as c:
                    c.ehlo()
                    self.assertEqual(c.cmd("MAIL FROM:<alice@example.com>"),
                                     "250 2.1.0 Sender <alice@example.com> OK")
                    self.assertEqual(c.cmd("RCPT TO:<rcpt@example.net>"),
                                     "250 2.1.5 Recipient <rcpt@example.net> OK")
                    self.assertEqual(c.cmd("DATA"), "354 End data with <CR><LF>.<CR><LF>")
                    c.send(b"From: <alice@example.com>\r\nTo: <rcpt@example.net>\r\n"
                           b"Subject: activated\r\nDate: Thu, 1 Jan 2026 00:00:00 +0000\r\n"
                           b"Message-ID: <act@example.com>\r\n\r\nHi.\r\n.\r\n")
                    self.assertRegex(c.reply(timeout=30), h.QUEUED_RE)
                    c.cmd("QUIT")
                self.assertEqual(d.stop(), 0)
            self.assertIn("Empty sender not allowed", m.log())
            # SIGHUP with another milter_listen: the socket is systemd's, nothing to take
            # at the next start, so no warning says there is; still served where it was.
            m.write_config(milter_listen="inet:127.0.0.1:%d" % h.free_port())
            p.send_signal(signal.SIGHUP)
            n.expect("RELOADING")
            msg = n.expect("READY", 30)
            self.assertEqual(msg.get("STATUS"), "listening on %s, 0 SMTP session(s)" % where)
            self.assertIn("reloaded", m.log())
            self.assertNotIn("take effect at the next start", m.log())
            # SIGTERM: libmilter's accept loop is woken through the activated socket (the
            # poke), not left to its 5 s poll timeout.
            t0 = time.monotonic()
            p.send_signal(signal.SIGTERM)
            n.expect("STOPPING")
            self.assertEqual(p.wait(30 * h.SLOW), 0, m.log()[-3000:])
            if h.SLOW == 1:
                self.assertLess(time.monotonic() - t0, 4.0, m.log()[-2000:])
            self.assertIn("stopped", m.log())
        return m

    def test_unix_socket(self):
        sock = os.path.join(tempfile.mkdtemp(prefix="postern-act-"), "milter.sock")
        self.addCleanup(shutil.rmtree, os.path.dirname(sock), True)
        self.serve(sock, sock, "unix:" + sock)
        # systemd's socket file is systemd's: libmilter did not unlink it at exit.
        self.assertTrue(os.path.exists(sock))

    def test_tcp_socket(self):
        port = h.free_port()
        self.serve("127.0.0.1:%d" % port, port, "inet:127.0.0.1:%d" % port)

    def refused(self, listens, names, why):
        m = postfix.Milter(MILTER_BIN, {"milter_user": ""}, name="act-refused")
        p, _ = self.launch(m, listens, names)
        postfix.wait_port(listens[0], timeout=15 * h.SLOW, proc=p)
        self.assertEqual(p.wait(30 * h.SLOW), 1, m.log())
        self.assertIn("postern-milter: socket activation: " + why, m.log())
        m.cleanup()

    def test_two_sockets_refused(self):
        d = tempfile.mkdtemp(prefix="postern-act-")
        self.addCleanup(shutil.rmtree, d, True)
        a, b = os.path.join(d, "a.sock"), os.path.join(d, "b.sock")
        self.refused([a, b], ["milter", "milter"], '2 sockets passed; postern-milter serves '
                     'exactly one, named "milter" (FileDescriptorName=milter)')

    def test_check_and_print_say_milter_listen_is_ignored(self):
        # -t and -n do not take the socket; they say milter_listen does not apply, and -t
        # does not check the directory of a unix milter_listen (here: one that is not there).
        m = postfix.Milter(MILTER_BIN, {"milter_listen": "unix:/nonexistent/dir/milter.sock",
                                        "milter_user": ""}, name="act-check")
        m.write_config()
        note = ("postern-milter: note: socket activation (LISTEN_FDS): milter_listen is ignored, "
                "the socket systemd passes is served")
        env = dict(os.environ, LISTEN_FDS="1")
        env.pop("LISTEN_PID", None)
        p = subprocess.run([MILTER_BIN, "-t", "-c", m.conf], env=env, capture_output=True,
                           text=True, timeout=60)
        self.assertEqual((p.returncode, p.stderr), (0, ""))
        self.assertEqual(p.stdout.splitlines(), [note, "postern-milter: %s: configuration OK" % m.conf])
        p = subprocess.run([MILTER_BIN, "-n", "-c", m.conf], env=env, capture_output=True,
                           text=True, timeout=60)
        self.assertEqual((p.returncode, p.stderr.strip()), (0, note))
        self.assertIn("milter_listen = unix:/nonexistent/dir/milter.sock", p.stdout)
        # Without LISTEN_FDS the directory is checked as before.
        env.pop("LISTEN_FDS")
        p = subprocess.run([MILTER_BIN, "-t", "-c", m.conf], env=env, capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(p.returncode, 1)
        self.assertIn("milter_listen", p.stderr)
        m.cleanup()

    def test_wrong_name_refused(self):
        d = tempfile.mkdtemp(prefix="postern-act-")
        self.addCleanup(shutil.rmtree, d, True)
        a = os.path.join(d, "a.sock")
        self.refused([a], ["smtp"], 'descriptor 3 is named "smtp", not "milter" '
                     '(FileDescriptorName=milter in the .socket unit)')


@unittest.skipUnless(ANALYZE, "systemd-analyze not installed")
class Units(h.SmtpdTestCase):
    def test_verify(self):
        # Units with paths are made by make from their .in files (configure's paths,
        # the default prefix here); the others are used as they are.
        where = {f: UNITS for f in os.listdir(UNITS) if f.endswith(".socket")}
        where.update({f: BUILT_UNITS for f in os.listdir(BUILT_UNITS)
                      if f.endswith(".service") or f.endswith(".socket")})
        units = sorted(where)
        for u in ("postern-smtpd.socket", "postern-smtpd-tls.socket", "postern-milter.socket",
                  "postern-smtpd.service", "postern-milter.service", "postern-relay.service"):
            self.assertIn(u, units)
        tmp = tempfile.mkdtemp(prefix="postern-units-")
        try:
            # The units name the installed binaries; point them at the built ones.
            for u in units:
                with open(os.path.join(where[u], u)) as f:
                    text = f.read()
                text = text.replace("/usr/local/sbin/postern-smtpd", h.SMTPD_BIN)
                text = text.replace("/usr/local/sbin/postern-milter", MILTER_BIN)
                text = text.replace("/usr/local/sbin/postern-relay", RELAY_BIN)
                with open(os.path.join(tmp, u), "w") as f:
                    f.write(text)
                if u in ("postern-smtpd.service", "postern-milter.service", "postern-relay.service"):
                    self.assertIn("Type=notify", text)
            # --man=no: the pages are not installed here (doc/ is checked by test_man.sh).
            p = subprocess.run([ANALYZE, "verify", "--man=no"] + [os.path.join(tmp, u) for u in units],
                               capture_output=True, text=True, timeout=120)
            out = p.stdout + p.stderr
            if p.returncode != 0 and re.search(r"Failed to (connect|initialize|set up)|"
                                               r"No such file or directory.*(bus|systemd)|"
                                               r"Failed to (load|create) manager", out):
                self.skipTest("systemd-analyze cannot run in this sandbox: %s" % out.strip()[:200])
            # Warnings about the system we run on (missing users, units) are not the units' fault.
            problems = [ln for ln in out.splitlines()
                        if ln.startswith(tmp) and "Unit configured to use" not in ln]
            self.assertEqual(problems, [], out)
            self.assertEqual(p.returncode, 0, out)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    h.main()
