"""relay_hop.py - a scripted SMTP/LMTP next hop and a runner for tests/relay/relay_deliver_tool.

ScriptedHop listens on a free 127.0.0.1 port (or a unix socket for LMTP),
answers from a small script (EHLO keywords, a reply per recipient, the
reply to the end of data, where to drop the connection) and records what it
saw: every command line with the batch (one recv) it arrived in, every
message as unstuffed bytes, connections opened, AUTH credentials, whether
TLS was up for each command.

    with ScriptedHop(keywords=["PIPELINING"]) as hop:
        out = deliver(conf_for(hop), message, "<a@example.com>", ["<b@example.org>"])
"""

import base64
import os
import socket
import ssl
import subprocess
import tempfile
import threading
import time

TOP_SRCDIR = os.path.abspath(os.environ.get(
    "top_srcdir", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")))
TOP_BUILDDIR = os.path.abspath(os.environ.get("top_builddir", TOP_SRCDIR))
TOOL = os.path.join(TOP_BUILDDIR, "tests", "relay", "relay_deliver_tool")
TIMEOUT = 120       # generous: the machine is shared and may be loaded
# What ASan, LSan and UBSan (--enable-sanitizers) print: any of them fails the test.
CHECKER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")


class Conn:
    """What one connection saw."""

    def __init__(self):
        self.commands = []      # (line, batch number, tls up)
        self.messages = []      # unstuffed message bytes, one per DATA
        self.auth = []          # (user, password)
        self.batches = 0


class ScriptedHop:
    def __init__(self, keywords=("PIPELINING", "8BITMIME", "SIZE 10240000"), lmtp=False,
                 unix_path=None, rcpt_reply=None, data_reply=None, mail_reply=None,
                 ehlo_reply=None, drop_in_data=None, tls=None, auth_users=None,
                 greeting="220 hop.test ESMTP scripted", data_delay=0,
                 close_after_message=False, auth_mechs="PLAIN LOGIN", starttls_reply=None):
        self.keywords = list(keywords)
        self.lmtp = lmtp
        self.unix_path = unix_path
        self.rcpt_reply = rcpt_reply or (lambda addr: "250 2.1.5 Ok")
        # SMTP: str; LMTP: function(addr) -> str, one per accepted recipient.
        self.data_reply = data_reply or (lambda addr: "250 2.0.0 Ok: queued as X")
        self.mail_reply = mail_reply or "250 2.1.0 Ok"
        self.ehlo_reply = ehlo_reply          # e.g. "502 5.5.2 no EHLO here": HELO then
        # "start": close after 354 and a first read; "end": close after the dot;
        # "reject": 552 after a first read of the message, without waiting for the dot.
        self.drop_in_data = drop_in_data
        self.tls = tls                        # (cert, key): offer STARTTLS
        self.auth_users = auth_users          # {user: password}: offer AUTH auth_mechs
        self.auth_mechs = auth_mechs
        self.starttls_reply = starttls_reply  # e.g. "454 4.7.0 TLS not available": refuse STARTTLS
        self.greeting = greeting
        self.data_delay = data_delay          # seconds before the reply to the end of data
        self.close_after_message = close_after_message  # hang up after each message's reply
        self.conns = []
        self.max_parallel = 0
        self._parallel = 0
        self._lock = threading.Lock()
        self._stop = False
        self._stopped = threading.Event()
        if unix_path:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.bind(unix_path)
        else:
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.sock.bind(("127.0.0.1", 0))
            self.port = self.sock.getsockname()[1]
        self.sock.listen(64)
        self.sock.settimeout(0.2)
        self.thread = threading.Thread(target=self._accept_loop, daemon=True)
        self.threads = []

    @property
    def relay_host(self):
        if self.unix_path:
            return "lmtp:unix:" + self.unix_path
        if self.lmtp:
            return "lmtp:inet:127.0.0.1:%d" % self.port
        return "[127.0.0.1]:%d" % self.port

    @property
    def desc(self):
        if self.unix_path:
            return "lmtp:unix:" + self.unix_path
        if self.lmtp:
            return "lmtp:inet:[127.0.0.1]:%d" % self.port
        return "[127.0.0.1]:%d" % self.port

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self._stop = True
        self._stopped.set()
        self.thread.join(5)
        for t in self.threads:
            t.join(10)
        self.sock.close()
        if self.unix_path and os.path.exists(self.unix_path):
            os.unlink(self.unix_path)

    def _accept_loop(self):
        while not self._stop:
            try:
                s, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            c = Conn()
            with self._lock:
                self.conns.append(c)
            t = threading.Thread(target=self._serve, args=(s, c), daemon=True)
            self.threads.append(t)
            t.start()

    def commands(self):
        return [cmd for c in self.conns for cmd, _, _ in c.commands]

    def messages(self):
        return [m for c in self.conns for m in c.messages]

    # ------------------------------------------------------------------
    def _serve(self, s, c):
        with self._lock:
            self._parallel += 1
            self.max_parallel = max(self.max_parallel, self._parallel)
        try:
            _Session(self, s, c).run()
        except (OSError, ssl.SSLError, ValueError):
            pass
        finally:
            with self._lock:
                self._parallel -= 1
            try:
                s.close()
            except OSError:
                pass


class _Closed(Exception):
    pass


class _Session:
    def __init__(self, hop, s, c):
        self.hop, self.s, self.c = hop, s, c
        self.buf = b""
        self.lines = []         # (line, batch) parsed, not yet taken
        self.tls = False
        s.settimeout(TIMEOUT)

    def send(self, line):
        self.s.sendall(line.encode() + b"\r\n")

    def _fill(self):
        data = self.s.recv(65536)
        if not data:
            raise _Closed()
        self.c.batches += 1
        return data

    def line(self):
        while b"\n" not in self.buf:
            self.buf += self._fill()
        line, self.buf = self.buf.split(b"\n", 1)
        return line.rstrip(b"\r").decode("utf-8", "replace")

    def command(self):
        # A command counts in the batch (recv) that completed it.
        line = self.line()
        self.c.commands.append((line, self.c.batches, self.tls))
        return line

    def data(self):
        raw = b""
        while True:
            while b"\r\n" not in self.buf:
                self.buf += self._fill()
            line, self.buf = self.buf.split(b"\r\n", 1)
            if line == b".":
                break
            if line.startswith(b"."):
                line = line[1:]
            raw += line + b"\r\n"
        return raw

    def run(self):
        hop, c = self.hop, self.c
        self.send(hop.greeting)
        if not hop.greeting.startswith("220"):
            return
        mail = None
        rcpts = []
        try:
            while True:
                cmd = self.command()
                verb = cmd.split(" ", 1)[0].upper()
                if verb in ("EHLO", "LHLO"):
                    if hop.ehlo_reply:
                        self.send(hop.ehlo_reply)
                        continue
                    kws = list(hop.keywords)
                    if hop.tls and not self.tls:
                        kws.append("STARTTLS")
                    if hop.auth_users:
                        kws.append("AUTH " + hop.auth_mechs)
                    lines = ["hop.test"] + kws
                    for i, l in enumerate(lines):
                        self.send("250%s%s" % ("-" if i < len(lines) - 1 else " ", l))
                elif verb == "HELO":
                    self.send("250 hop.test")
                elif verb == "STARTTLS":
                    if hop.starttls_reply:
                        self.send(hop.starttls_reply)
                        continue
                    self.send("220 2.0.0 Ready to start TLS")
                    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                    ctx.load_cert_chain(*hop.tls)
                    self.s = ctx.wrap_socket(self.s, server_side=True)
                    self.tls = True
                    self.buf = b""
                elif verb == "AUTH":
                    self._auth(cmd)
                elif verb == "MAIL":
                    mail = cmd
                    rcpts = []
                    self.send(hop.mail_reply)
                elif verb == "RCPT":
                    addr = cmd[cmd.index(":") + 1:].strip().split(" ")[0]
                    r = hop.rcpt_reply(addr)
                    if r.startswith("2"):
                        rcpts.append(addr)
                    self.send(r)
                elif verb == "DATA":
                    if not rcpts or not mail or not hop.mail_reply.startswith("2"):
                        self.send("554 5.5.1 Error: no valid recipients")
                        continue
                    self.send("354 End data with <CR><LF>.<CR><LF>")
                    if hop.drop_in_data == "start":
                        self._fill()
                        return
                    if hop.drop_in_data == "reject":
                        # Refuse mid-message, then swallow the rest until the client hangs up.
                        self._fill()
                        self.send("552 5.3.4 Message size exceeds fixed limit")
                        while True:
                            self._fill()
                    msg = self.data()
                    c.messages.append(msg)
                    if hop.drop_in_data == "end":
                        return
                    if hop.data_delay:
                        hop._stopped.wait(hop.data_delay)     # cut short when the test ends
                    if hop.lmtp:
                        for a in rcpts:
                            self.send(hop.data_reply(a))
                    else:
                        self.send(hop.data_reply(None))
                    mail, rcpts = None, []
                    if hop.close_after_message:
                        return
                elif verb == "RSET":
                    mail, rcpts = None, []
                    self.send("250 2.0.0 Ok")
                elif verb == "QUIT":
                    self.send("221 2.0.0 Bye")
                    return
                else:
                    self.send("502 5.5.2 Error: command not recognized")
        except _Closed:
            return

    def _auth(self, cmd):
        hop = self.hop
        parts = cmd.split(" ")
        mech = parts[1].upper() if len(parts) > 1 else ""
        if mech == "PLAIN":
            resp = parts[2] if len(parts) > 2 else None
            if resp is None:
                self.send("334 ")
                resp = self.line()
            _, user, pw = base64.b64decode(resp).decode().split("\0")
        elif mech == "LOGIN":
            self.send("334 VXNlcm5hbWU6")
            user = base64.b64decode(self.line()).decode()
            self.send("334 UGFzc3dvcmQ6")
            pw = base64.b64decode(self.line()).decode()
        else:
            self.send("504 5.5.4 Unsupported authentication type")
            return
        self.c.auth.append((user, pw, self.tls))
        if hop.auth_users and hop.auth_users.get(user) == pw:
            self.send("235 2.7.0 Authentication successful")
        else:
            self.send("535 5.7.8 Authentication credentials invalid")


def write_conf(directory, relay_host, **keys):
    """A postern.conf with relay_host and the given relay_* keys; returns its path."""
    path = os.path.join(directory, "postern.conf")
    with open(path, "w") as f:
        f.write("smtpd_hostname = relay.postern.test\nrelay_host = %s\n" % relay_host)
        for k, v in keys.items():
            f.write("%s = %s\n" % (k, v))
    return path


def deliver(conf, message, sender, rcpts, received=None, eight=False, utf8=False,
            rounds=1, parallel=1, directory=None, timeout_cap=0, kill_ms=0, verbose=False):
    """Run relay_deliver_tool; returns (results {(job, rcpt): (state, reply)}, lines, stderr)."""
    d = directory or tempfile.mkdtemp(prefix="postern-relay-")
    mpath = os.path.join(d, "message")
    with open(mpath, "wb") as f:
        f.write(message)
    cmd = [TOOL, "-c", conf, "-m", mpath, "-n", str(rounds), "-p", str(parallel)]
    if received is not None:
        rpath = os.path.join(d, "received")
        with open(rpath, "wb") as f:
            f.write(received)
        cmd += ["-r", rpath]
    if timeout_cap:
        cmd += ["-T", str(timeout_cap)]
    if kill_ms:
        cmd += ["-k", str(kill_ms)]
    if verbose:
        cmd.append("-v")
    if eight:
        cmd.append("-8")
    if utf8:
        cmd.append("-u")
    wrapper = os.environ.get("RELAY_WRAPPER", "").split()
    p = subprocess.run(wrapper + cmd + [sender] + list(rcpts), capture_output=True,
                       timeout=TIMEOUT * 2)
    out = p.stdout.decode("utf-8", "replace")
    err = p.stderr.decode("utf-8", "replace")
    if p.returncode != 0:
        raise AssertionError("relay_deliver_tool exited %d:\n%s%s" % (p.returncode, out, err))
    for mark in CHECKER_MARKS:
        if mark in err:
            raise AssertionError("relay_deliver_tool: %s\n%s" % (mark, err))
    results = {}
    lines = out.splitlines()
    for line in lines:
        parts = line.split(" ", 3)
        if len(parts) >= 3 and parts[0][0].isdigit():
            results[(parts[0], parts[1])] = (parts[2], parts[3] if len(parts) > 3 else "")
    return results, lines, err


def main():
    """Run the calling script's unittest cases; last line "N passed, M failed"; exit 0, 1 or 77."""
    import sys
    import unittest
    if not os.access(TOOL, os.X_OK):
        print("SKIP: %s is not built" % TOOL)
        sys.exit(77)
    mod = sys.modules["__main__"]
    loader = unittest.defaultTestLoader
    suite = (loader.loadTestsFromNames(sys.argv[1:], mod) if len(sys.argv) > 1
             else loader.loadTestsFromModule(mod))
    t0 = time.time()
    result = unittest.TextTestRunner(stream=sys.stdout, verbosity=2).run(suite)
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    skipped = len(result.skipped)
    if skipped:
        print("%d skipped" % skipped)
    print("runtime %.1f s" % (time.time() - t0))
    print("%d passed, %d failed" % (result.testsRun - failed - skipped, failed))
    sys.stdout.flush()
    sys.exit(1 if failed else 0)
