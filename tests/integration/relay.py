"""relay.py - harness for the postern-relay integration tests.

A scripted SMTP next hop (standard library only: a thread per
connection), postern-relay run on a throw-away spool and config, spool
files written the way postern-smtpd writes them (header block, fsync,
linked into new/ whole), and postern-queue called for --json answers.
"""

import email
import email.policy
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import smtpd as harness  # noqa: E402  (the frontend harness: paths, free ports, Smtpd)

RELAY_BIN = os.path.join(harness.TOP_BUILDDIR, "relay", "postern-relay")
QUEUE_BIN = os.path.join(harness.TOP_BUILDDIR, "tools", "postern-queue")
HOSTNAME = "relay.postern.test"
SLOW = harness.SLOW


_last = [0, 0]


def uuid7():
    """A UUIDv7 text id (RFC 9562), as postern-smtpd names spool files: a 12-bit
    counter in rand_a keeps the ids of one millisecond in creation order."""
    ms = int(time.time() * 1000)
    if ms <= _last[0]:
        ms, rand_a = _last[0], _last[1] + 1
        if rand_a > 0xfff:
            ms, rand_a = ms + 1, 0
    else:
        rand_a = 0
    _last[0], _last[1] = ms, rand_a
    rand_b = random.getrandbits(62)
    v = (ms << 80) | (0x7 << 76) | (rand_a << 64) | (0b10 << 62) | rand_b
    h = "%032x" % v
    return "%s-%s-%s-%s-%s" % (h[:8], h[8:12], h[12:16], h[16:20], h[20:])


def spool_bytes(msgid, sender, rcpts, body, size=None, version=1, arrival_ms=None, quarantine=None):
    """A spool file: header block (README "Spool format") and the message."""
    hdr = ["postern-spool %d" % version, "id " + msgid,
           "arrival %d" % (arrival_ms if arrival_ms is not None else int(time.time() * 1000)),
           "client-address 127.0.0.1", "client-port 40000", "helo client.example",
           "protocol ESMTPSA", "tls-version TLSv1.3", "tls-cipher TLS_AES_256_GCM_SHA384",
           "account alice", "body 8BITMIME", "smtputf8 no", "sender <%s>" % sender]
    hdr += ["rcpt <%s>" % r for r in rcpts]
    if quarantine is not None:
        hdr.append("quarantine " + quarantine)
    hdr.append("size %020d" % (len(body) if size is None else size))
    return ("\n".join(hdr) + "\n\n").encode() + body


def put_spool(spool, data, msgid):
    """Write data whole, fsync, then link it into new/ (what the relay's inotify sees)."""
    tmp = os.path.join(spool, "tmp")
    os.makedirs(tmp, exist_ok=True)
    os.makedirs(os.path.join(spool, "new"), exist_ok=True)
    path = os.path.join(tmp, "t." + msgid)
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.link(path, os.path.join(spool, "new", msgid))
    os.unlink(path)


def message(subject="test", extra=b""):
    return (b"From: Alice <alice@example.com>\r\nTo: bob@example.org\r\n"
            b"Subject: " + subject.encode() + b"\r\nMessage-ID: <" + uuid7().encode() +
            b"@example.com>\r\n\r\nHello.\r\n.leading dot\r\n" + extra)


class Received:
    """One message the sink accepted: envelope, data, per-recipient acceptance."""

    def __init__(self, sender, rcpts, data):
        self.sender = sender
        self.rcpts = rcpts
        self.data = data

    def parsed(self):
        return email.message_from_bytes(self.data, policy=email.policy.compat32)


class Sink:
    """A scripted SMTP server on 127.0.0.1.

    rcpt(addr, n) -> reply for the n-th RCPT (from 1) of that address;
    data(rcpts, n) -> reply to the n-th end of data (None: drop the
    connection instead). Defaults: 250.
    lmtp=True: an LMTP server (RFC 2033): after the data, one reply per
    accepted recipient, lmtp_data(addr, n) for the n-th of that address.
    """

    def __init__(self, rcpt=None, data=None, lmtp=False, lmtp_data=None):
        self.rcpt_fn = rcpt or (lambda a, n: "250 2.1.5 Ok")
        self.data_fn = data or (lambda r, n: "250 2.0.0 Ok: queued")
        self.lmtp = lmtp
        self.lmtp_fn = lmtp_data or (lambda a, n: "250 2.0.0 Ok: delivered")
        self.lmtp_count = {}
        self.lock = threading.Lock()
        self.rcpt_count = {}
        self.data_count = 0
        self.got = []               # Received, in order
        self.sessions = 0
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.stopping = False
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def close(self):
        self.stopping = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()

    def _accept(self):
        while not self.stopping:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._session, args=(c,), daemon=True).start()

    def _session(self, c):
        f = c.makefile("rb")
        with self.lock:
            self.sessions += 1

        def say(line):
            c.sendall(line.encode() + b"\r\n")
        try:
            say("220 sink.test ESMTP")
            sender, rcpts, accepted = None, [], []
            while True:
                line = f.readline()
                if not line:
                    return
                cmd = line.decode("utf-8", "replace").rstrip("\r\n")
                up = cmd.upper()
                if up.startswith("EHLO" if not self.lmtp else "LHLO"):
                    c.sendall(b"250-sink.test\r\n250-PIPELINING\r\n250-8BITMIME\r\n"
                              b"250-SIZE 10485760\r\n250 SMTPUTF8\r\n")
                elif up.startswith("HELO"):
                    say("250 sink.test")
                elif up.startswith("MAIL FROM:"):
                    sender, rcpts, accepted = cmd[10:].split(" ")[0].strip("<>"), [], []
                    say("250 2.1.0 Ok")
                elif up.startswith("RCPT TO:"):
                    addr = cmd[8:].split(" ")[0].strip("<>")
                    with self.lock:
                        n = self.rcpt_count.get(addr, 0) + 1
                        self.rcpt_count[addr] = n
                    reply = self.rcpt_fn(addr, n)
                    if reply is None:
                        return          # drop the connection
                    if reply.startswith("2"):
                        accepted.append(addr)
                    rcpts.append(addr)
                    say(reply)
                elif up == "DATA":
                    if not accepted:
                        say("554 5.5.1 No valid recipients")
                        continue
                    say("354 End data with <CR><LF>.<CR><LF>")
                    buf = []
                    while True:
                        l = f.readline()
                        if not l:
                            return
                        if l == b".\r\n":
                            break
                        buf.append(l[1:] if l.startswith(b".") else l)
                    if self.lmtp:
                        ok = []
                        for a in accepted:
                            with self.lock:
                                n = self.lmtp_count.get(a, 0) + 1
                                self.lmtp_count[a] = n
                            r = self.lmtp_fn(a, n)
                            if r.startswith("2"):
                                ok.append(a)
                            say(r)
                        if ok:
                            with self.lock:
                                self.got.append(Received(sender, ok, b"".join(buf)))
                        continue
                    with self.lock:
                        self.data_count += 1
                        n = self.data_count
                    reply = self.data_fn(accepted, n)
                    if reply is None:
                        return
                    if reply.startswith("2"):
                        with self.lock:
                            self.got.append(Received(sender, list(accepted), b"".join(buf)))
                    say(reply)
                elif up == "RSET":
                    sender, rcpts, accepted = None, [], []
                    say("250 2.0.0 Ok")
                elif up == "NOOP":
                    say("250 2.0.0 Ok")
                elif up == "QUIT":
                    say("221 2.0.0 Bye")
                    return
                else:
                    say("502 5.5.2 Error: command not recognized")
        except OSError:
            pass
        finally:
            try:
                c.close()
            except OSError:
                pass

    def messages(self):
        with self.lock:
            return list(self.got)

    def wait_messages(self, n, timeout=20.0):
        deadline = time.time() + timeout * SLOW
        while time.time() < deadline:
            if len(self.messages()) >= n:
                return self.messages()
            time.sleep(0.05)
        raise AssertionError("sink got %d message(s), expected %d" % (len(self.messages()), n))


class Relay:
    """postern-relay on its own spool and config, pointed at a Sink."""

    def __init__(self, sink_port, spool=None, **overrides):
        self.dir = tempfile.mkdtemp(prefix="postern-relay-")
        harness._DIRS.append(self.dir)
        self.spool = spool or os.path.join(self.dir, "spool")
        for sub in ("tmp", "new"):
            os.makedirs(os.path.join(self.spool, sub), exist_ok=True)
        self.conf_path = os.path.join(self.dir, "postern.conf")
        self.log_path = os.path.join(self.dir, "relay.log")
        cfg = {
            "smtpd_hostname": HOSTNAME,
            "smtpd_spool_dir": self.spool,
            "relay_host": "[127.0.0.1]:%d" % sink_port,
            "relay_tls": "none",
            "relay_user": "",
            "relay_backoff_min": "1s",
            "relay_backoff_max": "2s",
            "relay_concurrency": "4",
        }
        cfg.update(overrides)
        with open(self.conf_path, "w") as f:
            for k, v in cfg.items():
                if v is not None:
                    f.write("%s = %s\n" % (k, v))
        self.proc = None
        self._logf = None
        self.debug = True

    def start(self):
        if self._logf is None:
            self._logf = open(self.log_path, "ab")
        starts = self.log_text().count("queue: ")
        self.proc = subprocess.Popen(harness.WRAPPER + [RELAY_BIN, "-c", self.conf_path] +
                                     (["-d"] if self.debug else []),
                                     stdin=subprocess.DEVNULL, stdout=self._logf,
                                     stderr=self._logf, cwd=self.dir)
        _RUNNING.add(self)
        # Ready once the startup scan is done (it logs the queue's size).
        self.wait_log("queue: ", timeout=10.0, count=starts + 1)
        return self

    def kill9(self):
        self.proc.kill()
        self.proc.wait()
        self.proc = None

    def stop(self, sig=signal.SIGTERM, grace=40.0):
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(grace * SLOW)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        rc = self.proc.returncode
        self.proc = None
        _RUNNING.discard(self)
        text = self.log_text()
        found = [m for m in harness.CHECKER_MARKS if m in text]
        if found or (harness.WRAPPER and rc == harness.WRAPPER_STATUS):
            harness._CHECKER_FAILS.append(self.log_path)
            raise AssertionError("memory checker report in %s" % self.log_path)
        return rc

    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def wait_log(self, needle, timeout=10.0, count=1):
        deadline = time.time() + timeout * SLOW
        while time.time() < deadline:
            if self.log_text().count(needle) >= count:
                return
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError("postern-relay exited (%s):\n%s"
                                     % (self.proc.returncode, self.log_text()[-3000:]))
            time.sleep(0.05)
        raise AssertionError("%r not logged within %.0f s:\n%s"
                             % (needle, timeout, self.log_text()[-3000:]))

    def put(self, sender, rcpts, body=None, **kw):
        msgid = uuid7()
        put_spool(self.spool, spool_bytes(msgid, sender, rcpts, body or message(), **kw), msgid)
        return msgid

    def queue(self, *args, check=True):
        """postern-queue -c CONF ARGS: (exit status, stdout, stderr)."""
        p = subprocess.run([QUEUE_BIN, "-c", self.conf_path] + list(args),
                           capture_output=True, text=True, timeout=60)
        if check and p.returncode != 0:
            raise AssertionError("postern-queue %s: %d %s" % (args, p.returncode, p.stderr))
        return p.returncode, p.stdout, p.stderr

    def status(self, msgid):
        rc, out, err = self.queue("status", msgid, "--json", check=False)
        if rc != 0:
            return None
        return json.loads(out)

    def wait_state(self, msgid, states, timeout=20.0):
        if isinstance(states, str):
            states = (states,)
        deadline = time.time() + timeout * SLOW
        st = None
        while time.time() < deadline:
            st = self.status(msgid)
            if st is not None and st["state"] in states:
                return st
            time.sleep(0.1)
        raise AssertionError("%s: state %s, expected %s; log:\n%s"
                             % (msgid, st and st["state"], states, self.log_text()[-3000:]))

    def files(self, sub):
        p = os.path.join(self.spool, sub)
        return sorted(os.listdir(p)) if os.path.isdir(p) else []


_RUNNING = set()


def main():
    for b in (RELAY_BIN, QUEUE_BIN):
        if not os.access(b, os.X_OK):
            print("SKIP: %s is not built" % b)
            print("0 passed, 0 failed")
            sys.exit(77)
    try:
        harness.main()
    finally:
        for r in list(_RUNNING):
            try:
                r.stop()
            except AssertionError as e:
                print(e)
