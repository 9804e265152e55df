"""smtpd.py - harness for the postern-smtpd integration tests.

Starts the real daemon (`$top_builddir/frontend/postern-smtpd -c CONF -d`)
on free loopback ports with a throw-away config, spool and accounts file,
and offers a raw line client, TLS contexts, spool look-ups and a
`main()` that runs a test file's unittest cases and prints the final
"N passed, M failed" line that `make check` logs show.

Reply texts of the spec table are written literally in the tests (they
are the contract); rows outside the table are read from lib/reply.h, the
single source, with reply_line().
"""

import atexit
import base64
import glob
import os
import re
import shutil
import shlex
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import time
import unittest
import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import crypt  # Python 3.11: crypt(3) from libcrypt, the daemon's own

TOP_SRCDIR = os.path.abspath(os.environ.get(
    "top_srcdir", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")))
TOP_BUILDDIR = os.path.abspath(os.environ.get("top_builddir", TOP_SRCDIR))
SMTPD_BIN = os.path.join(TOP_BUILDDIR, "frontend", "postern-smtpd")
HERE = os.path.dirname(os.path.abspath(__file__))

HOSTNAME = "postern.test"
UUID7 = r"[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
QUEUED_RE = re.compile(r"^250 2\.6\.0 Message queued as (" + UUID7 + r")$")
UUID7_RE = re.compile(UUID7)

# Accounts written into every test's accounts file: name -> (password, flags, senders).
ACCOUNTS = {
    "alice": ("alice-secret", "", "example.com"),
    "bob": ("bob-secret", "blocked", "example.com"),
    "carol": ("carol-secret", "", "carol@example.org"),
}

KEEP = os.environ.get("SMTPD_TEST_KEEP") == "1"
# SMTPD_WRAPPER="valgrind --error-exitcode=99 ..." runs the daemon under a checker
# (make check-valgrind-daemons); its error status fails the test that stops it.
WRAPPER = shlex.split(os.environ.get("SMTPD_WRAPPER", ""))
WRAPPER_STATUS = 99
# What ASan, LSan and UBSan (--enable-sanitizers) write into the daemon's log: any of
# them fails the test that stops the daemon, whatever its exit status.
CHECKER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")
_CHECKER_FAILS = []
SLOW = 10 if WRAPPER else 1     # valgrind: start, stop and replies take longer


# --------------------------------------------------------------------------
# The reply table (REPLY_ROWS in lib/reply.h).

def _c_unescape(s):
    return re.sub(r'\\(.)', lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), s)


_REPLIES = None


def reply_rows():
    """{ "R_NAME": (code, xcode or None, text) } parsed from REPLY_ROWS in lib/reply.h."""
    global _REPLIES
    if _REPLIES is None:
        with open(os.path.join(TOP_SRCDIR, "lib", "reply.h"), encoding="utf-8") as f:
            src = f.read()
        rows = {}
        for m in re.finditer(r'\bXA?\(\s*(R_\w+)\s*,\s*(\d+)\s*,\s*(NULL|"[^"]*")\s*,\s*'
                             r'"((?:[^"\\]|\\.)*)"\s*\)', src):
            x = None if m.group(3) == "NULL" else m.group(3).strip('"')
            rows[m.group(1)] = (int(m.group(2)), x, _c_unescape(m.group(4)))
        if not rows:
            raise RuntimeError("no reply rows found in lib/reply.h")
        _REPLIES = rows
    return _REPLIES


def reply_line(name, arg=None):
    """The exact reply line of row `name`, placeholder replaced by arg (as lib/reply.c does)."""
    code, x, text = reply_rows()[name]
    if arg is not None:
        text = re.sub(r"<[^>]*>", lambda m: arg, text, count=1)
    return "%d %s %s" % (code, x, text) if x else "%d %s" % (code, text)


# --------------------------------------------------------------------------
# Ports, certificates, accounts.

def stop_process(p, timeout=15.0):
    """SIGTERM a helper process (a third-party milter), SIGKILL if it outlives timeout."""
    p.terminate()
    try:
        p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def free_port(family=socket.AF_INET, host="127.0.0.1"):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.bind((host, 0))
    port = s.getsockname()[1]
    s.close()
    return port


def ipv6_available():
    try:
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        s.bind(("::1", 0))
        s.close()
        return True
    except OSError:
        return False


def _listening(port):
    """True when some socket is in LISTEN on port (read from /proc, so no connection is spent)."""
    hexport = ":%04X" % port
    for f in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(f) as fh:
                next(fh)
                for line in fh:
                    parts = line.split()
                    if parts[1].endswith(hexport) and parts[3] == "0A":
                        return True
        except OSError:
            pass
    return False


def make_cert(directory, cn=HOSTNAME):
    """Generate a self-signed cert for cn into directory; returns (cert, key) paths."""
    wc, wk = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    if shutil.which("certtool"):
        tmpl = os.path.join(directory, "tmpl")
        with open(tmpl, "w") as f:
            f.write('cn = "%s"\ndns_name = "%s"\nexpiration_days = 30\n'
                    "tls_www_server\nsigning_key\n" % (cn, cn))
        subprocess.run(["certtool", "--generate-privkey", "--key-type=ecdsa",
                        "--curve=secp256r1", "--outfile", wk], check=True, capture_output=True)
        subprocess.run(["certtool", "--generate-self-signed", "--load-privkey", wk,
                        "--template", tmpl, "--outfile", wc], check=True, capture_output=True)
        os.unlink(tmpl)
    else:
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-keyout", wk, "-out", wc,
                        "-subj", "/CN=" + cn, "-days", "30"], check=True, capture_output=True)
    return wc, wk


def test_cert():
    """(cert, key) PEM paths of a self-signed postern.test certificate, made once and cached
    in the temp area (shared by the test files of a run; never modify them)."""
    cache = os.path.join(tempfile.gettempdir(), "postern-smtpd-test-cert-%d" % os.getuid())
    cert, key = os.path.join(cache, "cert.pem"), os.path.join(cache, "key.pem")
    if os.path.exists(cert) and time.time() - os.path.getmtime(cert) < 86400:
        return cert, key
    work = tempfile.mkdtemp(prefix="postern-cert-")
    try:
        make_cert(work)
        if os.path.exists(cache):
            shutil.rmtree(cache, ignore_errors=True)
        try:
            os.rename(work, cache)      # atomic: a parallel test file may race us
        except OSError:
            pass
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return cert, key


def hash_password(pw):
    return crypt.crypt(pw, crypt.mksalt(crypt.METHOD_SHA512))


def write_accounts(path, accounts=None):
    """accounts: {name: (password, flags, senders)}; written atomically."""
    accounts = ACCOUNTS if accounts is None else accounts
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("# name:hash:flags:senders (written by tests/integration/smtpd.py)\n")
        for name, (pw, flags, senders) in accounts.items():
            f.write("%s:%s:%s:%s\n" % (name, hash_password(pw), flags, senders))
    os.replace(tmp, path)


def plain_b64(user, pw, authzid=""):
    return base64.b64encode(("%s\0%s\0%s" % (authzid, user, pw)).encode()).decode()


def b64(s):
    return base64.b64encode(s.encode() if isinstance(s, str) else s).decode()


# --------------------------------------------------------------------------
# The daemon.

_RUNNING = set()
_DIRS = []
_FAILED = False


@atexit.register
def _stop_all():
    for d in list(_RUNNING):
        try:
            d.stop()
        except AssertionError as e:     # a checker's report (sanitizers, SMTPD_WRAPPER)
            print(e)
    left = [p for p in _DIRS if os.path.isdir(p)]
    del _DIRS[:]
    if KEEP or _FAILED:
        if left:
            sys.stdout.write("kept for inspection (config, spool, smtpd.log): %s\n" % " ".join(left))
        return
    for p in left:
        shutil.rmtree(p, ignore_errors=True)


class Smtpd:
    """A running postern-smtpd with its own config, spool and accounts.

    Keyword arguments are config keys (True/False become yes/no, None
    leaves the key out so the daemon's default applies), plus:
      tls=True         set smtpd_tls_cert_file/key_file to the test cert
      tls_listen=True  also an implicit-TLS listener (implies tls)
      ipv6=True        also listen on [::1]:<port6>
    """

    def __init__(self, tls=False, tls_listen=False, ipv6=False, accounts=None, **overrides):
        self.dir = tempfile.mkdtemp(prefix="postern-smtpd-")
        _DIRS.append(self.dir)
        self.host = "127.0.0.1"
        self.port = free_port()
        self.port6 = free_port(socket.AF_INET6, "::1") if ipv6 else None
        self.tls_port = free_port() if tls_listen else None
        self.spool = os.path.join(self.dir, "spool")
        os.makedirs(self.spool)
        self.accounts_path = os.path.join(self.dir, "accounts")
        write_accounts(self.accounts_path, accounts)
        self.conf_path = os.path.join(self.dir, "postern.conf")
        self.log_path = os.path.join(self.dir, "smtpd.log")
        listen = "%s:%d" % (self.host, self.port)
        if ipv6:
            listen += ", [::1]:%d" % self.port6
        cfg = {
            "smtpd_listen": listen,
            "smtpd_hostname": HOSTNAME,
            "smtpd_spool_dir": self.spool,
            "smtpd_user": "",
            "smtpd_milters": "",
            "accounts_file": self.accounts_path,
            "smtpd_require_auth": False,
        }
        if tls or tls_listen:
            cfg["smtpd_tls_cert_file"], cfg["smtpd_tls_key_file"] = test_cert()
        if tls_listen:
            cfg["smtpd_tls_listen"] = "%s:%d" % (self.host, self.tls_port)
        cfg.update(overrides)
        self.config = cfg
        with open(self.conf_path, "w") as f:
            f.write("# written by tests/integration/smtpd.py\n")
            for k, v in cfg.items():
                if v is None:
                    continue
                if v is True or v is False:
                    v = "yes" if v else "no"
                f.write("%s = %s\n" % (k, v))
        self.proc = None
        self.returncode = None

    # -- life cycle
    def start(self, wait=10.0):
        if not os.access(SMTPD_BIN, os.X_OK):
            raise RuntimeError("%s not built" % SMTPD_BIN)
        wait *= SLOW
        self._logf = open(self.log_path, "ab")
        self.proc = subprocess.Popen(WRAPPER + [SMTPD_BIN, "-c", self.conf_path, "-d"],
                                     stdin=subprocess.DEVNULL, stdout=self._logf,
                                     stderr=self._logf, cwd=self.dir)
        _RUNNING.add(self)
        ports = [p for p in (self.port, self.port6, self.tls_port) if p]
        deadline = time.time() + wait
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("postern-smtpd exited with %s at start:\n%s"
                                   % (self.proc.returncode, self.log_text()[-3000:]))
            if all(_listening(p) for p in ports):
                return self
            time.sleep(0.02)
        raise RuntimeError("postern-smtpd did not listen on %s within %.0f s:\n%s"
                           % (ports, wait, self.log_text()[-3000:]))

    def stop(self, sig=signal.SIGTERM, grace=5.0):
        """Stop the daemon; returns its exit status (negative: killed by that signal)."""
        if self.proc is None:
            return self.returncode
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(sig)
                self.proc.wait(grace * SLOW)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.returncode = self.proc.returncode
        self.proc = None
        self._logf.close()
        _RUNNING.discard(self)
        text = self.log_text()
        found = [m for m in CHECKER_MARKS if m in text]
        if found or (WRAPPER and self.returncode == WRAPPER_STATUS):
            _CHECKER_FAILS.append(self.log_path)
            at = text.find(found[0]) if found else -6000
            raise AssertionError("postern-smtpd: a memory checker reported errors (exit %s):\n%s"
                                 % (self.returncode, text[max(at - 200, 0) if found else at:][:8000]))
        return self.returncode

    def kill9(self):
        self.proc.kill()
        self.proc.wait()
        return self.stop()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def __enter__(self):
        return self.start()

    def __exit__(self, exc_type, exc, tb):
        self.stop()
        if exc_type is not None:
            sys.stderr.write("---- postern-smtpd log (%s) ----\n%s\n----\n"
                             % (self.log_path, self.log_text()[-4000:]))
        if not KEEP and exc_type is None:
            shutil.rmtree(self.dir, ignore_errors=True)
        return False

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def wait_log(self, needle, timeout=5.0):
        """True once the log contains needle (polls)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if needle in self.log_text():
                return True
            time.sleep(0.05)
        return needle in self.log_text()

    def _status(self, key):
        with open("/proc/%d/status" % self.pid) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
        return 0

    def rss_kb(self):
        return self._status("VmRSS")

    def hwm_kb(self):
        return self._status("VmHWM")

    def reset_hwm(self):
        """Reset VmHWM to the current RSS (Linux: write 5 to clear_refs); False if not allowed."""
        try:
            with open("/proc/%d/clear_refs" % self.pid, "w") as f:
                f.write("5")
            return True
        except OSError:
            return False

    def signal(self, sig):
        os.kill(self.pid, sig)

    # -- clients
    def client(self, **kw):
        return Client(self.port, **kw)

    def tls_client(self, **kw):
        return Client(self.tls_port, tls=True, **kw)

    def smtp(self, timeout=10):
        import smtplib
        return smtplib.SMTP(self.host, self.port, timeout=timeout)

    # -- spool
    def spool_files(self):
        """Every regular file under smtpd_spool_dir/new."""
        return sorted(p for p in glob.glob(os.path.join(self.spool, "new", "**"), recursive=True)
                      if os.path.isfile(p))

    def spool_all_files(self):
        """Every regular file anywhere under the spool directory (leftover checks)."""
        out = []
        for root, _dirs, files in os.walk(self.spool):
            out.extend(os.path.join(root, f) for f in files)
        return sorted(out)

    def spool_ids(self):
        """Message ids (UUIDv7) named by the files in spool/new, in name order."""
        ids = []
        for p in self.spool_files():
            m = UUID7_RE.search(os.path.relpath(p, os.path.join(self.spool, "new")))
            if m and m.group(0) not in ids:
                ids.append(m.group(0))
        return ids

    def spool_data(self, msgid):
        """Bytes of every spool/new file whose name contains msgid, concatenated (file + sidecar)."""
        data = b""
        for p in self.spool_files():
            if msgid in os.path.relpath(p, self.spool):
                with open(p, "rb") as f:
                    data += f.read()
        return data


# --------------------------------------------------------------------------
# Clients.

def client_ctx(minv=None, maxv=None):
    """A TLS client context that accepts the self-signed test cert."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if minv:
        ctx.minimum_version = minv
    if maxv:
        ctx.maximum_version = maxv
    return ctx


class Client:
    """Raw SMTP line client: send bytes, read whole (multi-line) replies."""

    def __init__(self, port, host="127.0.0.1", timeout=10.0, tls=False, ctx=None, banner=True,
                 family=None, source=None):
        self.timeout = timeout
        if family is None:
            # source: the client's own address (any of 127.0.0.0/8 works on Linux).
            self.sock = socket.create_connection((host, port), timeout,
                                                 source_address=(source, 0) if source else None)
        else:
            self.sock = socket.socket(family, socket.SOCK_STREAM)
            self.sock.settimeout(timeout)
            self.sock.connect((host, port))
        self.sock.settimeout(timeout)
        if tls:
            self.sock = (ctx or client_ctx()).wrap_socket(self.sock)
        self.buf = b""
        self.banner = self.reply() if banner else None

    # -- raw I/O
    def send(self, data):
        if isinstance(data, str):
            data = data.encode("utf-8")
        self.sock.sendall(data)

    def _fill(self, timeout=None):
        self.sock.settimeout(self.timeout if timeout is None else timeout)
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError("connection closed by server")
        self.buf += chunk

    def line(self, timeout=None):
        """One reply line without its CRLF; EOFError when the server closed first."""
        while b"\n" not in self.buf:
            self._fill(timeout)
        raw, self.buf = self.buf.split(b"\n", 1)
        return raw.rstrip(b"\r").decode("utf-8", "surrogateescape")

    def reply_lines(self, timeout=None):
        lines = []
        while True:
            ln = self.line(timeout)
            lines.append(ln)
            if len(ln) < 4 or ln[3] != "-":
                return lines

    def reply(self, timeout=None):
        """A whole reply; multi-line replies joined with '\\n'."""
        return "\n".join(self.reply_lines(timeout))

    def cmd(self, line, timeout=None):
        self.send(line + "\r\n")
        return self.reply(timeout)

    def ehlo(self, name="client.example"):
        return self.reply_lines_cmd("EHLO " + name)

    def reply_lines_cmd(self, line):
        self.send(line + "\r\n")
        return self.reply_lines()

    def pending(self, wait=0.3):
        """Bytes the server sent within `wait` seconds (b"" if none); EOF gives b"<EOF>"."""
        out = self.buf
        self.buf = b""
        self.sock.settimeout(wait)
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return out + b"<EOF>"
                out += chunk
        except (socket.timeout, ssl.SSLWantReadError, BlockingIOError):
            return out
        except ConnectionResetError:
            return out + b"<EOF>"

    def closed(self, timeout=5.0):
        """True when the server closes the connection (EOF or reset) within timeout with
        nothing more to say; any data instead makes it False and is kept in .leftover."""
        self.leftover = self.buf
        if self.buf:
            return False
        self.sock.settimeout(timeout)
        try:
            chunk = self.sock.recv(65536)
        except (ConnectionResetError, BrokenPipeError):
            return True
        except ssl.SSLError:
            return True
        except socket.timeout:
            return False
        self.leftover = chunk
        return chunk == b""

    # -- TLS
    def starttls(self, ctx=None):
        r = self.cmd("STARTTLS")
        if r != "220 2.0.0 Ready to start TLS":
            raise AssertionError("STARTTLS answered %r" % r)
        if self.buf:
            raise AssertionError("server sent data after 220 before the handshake: %r" % self.buf)
        self.sock = (ctx or client_ctx()).wrap_socket(self.sock)
        return r

    def tls_version(self):
        return self.sock.version() if isinstance(self.sock, ssl.SSLSocket) else None

    # -- AUTH
    def auth_plain(self, user="alice", pw=None):
        pw = ACCOUNTS[user][0] if pw is None else pw
        return self.cmd("AUTH PLAIN " + plain_b64(user, pw))

    # -- transactions
    def mail_rcpt_data(self, sender="a@example.com", rcpts=("b@example.com",)):
        """MAIL, RCPT..., DATA; asserts the table's replies and returns nothing."""
        r = self.cmd("MAIL FROM:<%s>" % sender)
        if r != "250 2.1.0 Sender <%s> OK" % sender:
            raise AssertionError("MAIL FROM answered %r" % r)
        for rc in rcpts:
            r = self.cmd("RCPT TO:<%s>" % rc)
            if r != "250 2.1.5 Recipient <%s> OK" % rc:
                raise AssertionError("RCPT TO answered %r" % r)
        r = self.cmd("DATA")
        if r != "354 End data with <CR><LF>.<CR><LF>":
            raise AssertionError("DATA answered %r" % r)

    def send_message(self, body, sender="a@example.com", rcpts=("b@example.com",)):
        """A whole transaction after EHLO; body is CRLF text, dot-stuffed here. Returns the final reply."""
        self.mail_rcpt_data(sender, rcpts)
        self.send(dot_stuff(body) + b".\r\n")
        return self.reply()

    # -- teardown
    def shutdown_wr(self):
        self.sock.shutdown(socket.SHUT_WR)

    def rst(self):
        """Abort with a TCP RST (SO_LINGER 0)."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()
        return False


def dot_stuff(body):
    """RFC 5321 transparency: a leading '.' is doubled; ensures a final CRLF."""
    if isinstance(body, str):
        body = body.encode("utf-8")
    if not body.endswith(b"\r\n"):
        body += b"\r\n"
    lines = body.split(b"\r\n")
    return b"\r\n".join((b"." + ln) if ln.startswith(b".") else ln for ln in lines)


def ehlo_keywords(lines):
    """EHLO reply lines -> list of extension lines (without the 250-/250 prefix, greeting dropped)."""
    return [ln[4:] for ln in lines[1:]]


def sample_message(subject="test", body="hello\r\n"):
    return ("From: a@example.com\r\nTo: b@example.com\r\nSubject: %s\r\n\r\n%s"
            % (subject, body)).encode()


# --------------------------------------------------------------------------
# Test-file entry point.

class SmtpdTestCase(unittest.TestCase):
    maxDiff = None

    def wait_for(self, pred, timeout=5.0, step=0.05):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if pred():
                return True
            time.sleep(step)
        return pred()


def main():
    """Run the calling script's tests; last line "N passed, M failed"; exit 0/1 (77: no daemon)."""
    if not os.access(SMTPD_BIN, os.X_OK):
        print("SKIP: %s is not built" % SMTPD_BIN)
        print("0 passed, 0 failed")
        sys.exit(77)
    mod = sys.modules["__main__"]
    loader = unittest.defaultTestLoader
    if len(sys.argv) > 1:
        suite = loader.loadTestsFromNames(sys.argv[1:], mod)
    else:
        suite = loader.loadTestsFromModule(mod)
    t0 = time.time()
    result = unittest.TextTestRunner(stream=sys.stdout, verbosity=2).run(suite)
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    skipped = len(result.skipped)
    passed = result.testsRun - failed - skipped
    if skipped:
        print("%d skipped" % skipped)
    print("runtime %.1f s" % (time.time() - t0))
    global _FAILED
    _FAILED = failed > 0
    _stop_all()
    if _CHECKER_FAILS:
        print("memory checker reports in: %s" % " ".join(sorted(set(_CHECKER_FAILS))))
        if not _FAILED:
            failed += 1         # reported only when a daemon left running was stopped
        _FAILED = True
    print("%d passed, %d failed" % (passed, failed))
    sys.stdout.flush()
    sys.exit(1 if failed else 0)
