"""test_smtpd_security.py - issue 23 points 3 to 6, on loopback with the real daemons.

(3) the milter channel: a squatter bound to the milter port (a libmilter
    test filter that adds a recipient and a header) by another user is
    refused by postern-smtpd, exactly as an unreachable milter is (421 4.3.2
    at DATA, nothing spooled) with one log line naming it; the same squatter
    as root or as milter_user is used; unix sockets in a directory others
    can write, or owned by another user, are refused; postern-milter sets
    milter_socket_mode/_group on its socket and refuses a shared directory;
(4) loose modes: secrets readable by others warned about by both daemons,
    a spool directory writable by others refused, -t lists every problem;
(6) TLS: static-RSA key exchange and CBC suites refused by default, offered
    again with smtpd_tls_priority; NoNewPrivs set in both daemons.
(5) postern-passwd hashes bcrypt at cost 12; the dummy hash for unknown
    names is a unit test (tests/unit/test_accounts.c). The Sender: alignment
    option is in tests/unit/test_engine.c.
"""

import grp
import os
import pwd
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
import postfix  # noqa: E402  (wait_port)

MILTER_BIN = os.path.join(h.TOP_BUILDDIR, "milter", "postern-milter")
TEST_FILTER = os.path.join(h.TOP_BUILDDIR, "tests", "unit", "milters", "test_filter")
UNAVAILABLE = "421 4.3.2 Service not available"
NOBODY = "nobody"


def nobody_ids():
    pw = pwd.getpwnam(NOBODY)
    return pw.pw_uid, pw.pw_gid


def as_user(user, argv):
    """argv run as user (root: unchanged), with no supplementary groups."""
    if user == "root":
        return argv
    pw = pwd.getpwnam(user)
    return ["setpriv", "--reuid=%d" % pw.pw_uid, "--regid=%d" % pw.pw_gid,
            "--clear-groups"] + argv


def message():
    return ("From: <alice@example.com>\r\nTo: <rcpt@example.net>\r\nSubject: Hello\r\n"
            "Message-ID: <m%d@example.com>\r\n\r\nHi there.\r\n" % time.monotonic_ns()).encode()


def transact(d):
    """MAIL, RCPT, DATA and the message on a new connection: the reply that ended it."""
    with d.client() as c:
        c.ehlo()
        for line in ("MAIL FROM:<alice@example.com>", "RCPT TO:<rcpt@example.net>"):
            r = c.cmd(line)
            if not r.startswith("250"):
                return r
        r = c.cmd("DATA", timeout=30)
        if not r.startswith("354"):
            return r
        c.send(h.dot_stuff(message()) + b".\r\n")
        return c.reply(timeout=30)


class Squatter:
    """tests/unit/milters/test_filter (mode "modify": adds a recipient and a header)
    started as user on spec (inet:PORT@127.0.0.1 or unix:/path)."""

    def __init__(self, test, user, spec, wait_for):
        if not os.access(TEST_FILTER, os.X_OK):
            test.fail("%s not built (make check builds it)" % TEST_FILTER)
        self.p = subprocess.Popen(as_user(user, [TEST_FILTER, "-p", spec, "-m", "modify"]),
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.wait_for = wait_for
        test.addCleanup(self.stop)
        if not postfix.wait_port(wait_for, timeout=15, proc=self.p):
            test.fail("test_filter as %s did not listen on %s" % (user, spec))

    def stop(self):
        """SIGTERM, then connections to wake libmilter's accept loop (5 s poll otherwise)."""
        if self.p.poll() is not None:
            return
        self.p.terminate()
        for _ in range(100):
            postfix.wait_port(self.wait_for, timeout=0.1, proc=self.p)
            try:
                self.p.wait(timeout=0.1)
                return
            except subprocess.TimeoutExpired:
                pass
        self.p.kill()
        self.p.wait()


def needs_root(test):
    if os.geteuid() != 0:
        test.skipTest("starting a process as another user needs root")
    if not shutil.which("setpriv"):
        test.skipTest("setpriv (util-linux) not installed")


class MilterOwnerInet(h.SmtpdTestCase):
    """A squatter on the loopback milter port while postern-milter is down."""

    def setUp(self):
        needs_root(self)
        self.port = h.free_port()
        self.name = "inet:127.0.0.1:%d" % self.port

    def smtpd(self, **kw):
        kw.setdefault("milter_user", "")
        return h.Smtpd(smtpd_milters=self.name, milter_timeout="10s", **kw)

    def test_squatter_of_another_user_refused(self):
        Squatter(self, NOBODY, "inet:%d@127.0.0.1" % self.port, self.port)
        with self.smtpd() as d:
            self.assertEqual(transact(d), UNAVAILABLE)
            self.assertEqual(d.spool_files(), [])
            uid = nobody_ids()[0]
            line = ("milter %s: refused: the milter socket belongs to uid %d, not root, "
                    "postern-smtpd (uid 0) or milter_user (none) (default action tempfail)"
                    % (self.name, uid))
            self.assertTrue(d.wait_log(line), d.log_text())

    def test_squatter_as_root_is_used(self):
        Squatter(self, "root", "inet:%d@127.0.0.1" % self.port, self.port)
        with self.smtpd() as d:
            self.assertRegex(transact(d), h.QUEUED_RE)
            (path,) = d.spool_files()
            with open(path, "rb") as f:
                data = f.read()
            self.assertIn(b"added@example.com", data)      # the filter's edits were applied
            self.assertIn(b"X-Multi: line one", data)

    def test_squatter_as_milter_user_is_used(self):
        Squatter(self, NOBODY, "inet:%d@127.0.0.1" % self.port, self.port)
        with self.smtpd(milter_user=NOBODY) as d:
            self.assertRegex(transact(d), h.QUEUED_RE)
            self.assertNotIn("refused:", d.log_text())

    def test_check_turned_off(self):
        Squatter(self, NOBODY, "inet:%d@127.0.0.1" % self.port, self.port)
        with self.smtpd(smtpd_milter_check_owner=False) as d:
            self.assertRegex(transact(d), h.QUEUED_RE)


class MilterOwnerUnix(h.SmtpdTestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="postern-sec-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.sockdir = os.path.join(self.dir, "run")
        os.mkdir(self.sockdir)
        self.sock = os.path.join(self.sockdir, "milter.sock")

    def test_directory_writable_by_others_refused(self):
        os.chmod(self.sockdir, 0o777)
        Squatter(self, "root", "unix:" + self.sock, self.sock)
        with h.Smtpd(smtpd_milters="unix:" + self.sock, milter_user="") as d:
            self.assertEqual(transact(d), UNAVAILABLE)
            self.assertTrue(d.wait_log(
                "milter unix:%s: refused: socket %s: its directory %s (mode 0777) lets every "
                "local user replace it" % (self.sock, self.sock, self.sockdir)), d.log_text())
        os.chmod(self.sockdir, 0o755)
        with h.Smtpd(smtpd_milters="unix:" + self.sock, milter_user="") as d:
            self.assertRegex(transact(d), h.QUEUED_RE)

    def test_socket_writable_by_others_refused(self):
        Squatter(self, "root", "unix:" + self.sock, self.sock)
        os.chmod(self.sock, 0o777)
        with h.Smtpd(smtpd_milters="unix:" + self.sock, milter_user="") as d:
            self.assertEqual(transact(d), UNAVAILABLE)
            self.assertTrue(d.wait_log("refused: socket %s: mode 0777 lets every local user "
                                       "connect as it" % self.sock), d.log_text())

    def test_peer_of_another_user_refused(self):
        needs_root(self)
        uid, gid = nobody_ids()
        os.chmod(self.dir, 0o755)
        os.chown(self.sockdir, uid, gid)
        Squatter(self, NOBODY, "unix:" + self.sock, self.sock)
        with h.Smtpd(smtpd_milters="unix:" + self.sock, milter_user="") as d:
            self.assertEqual(transact(d), UNAVAILABLE)
            self.assertTrue(d.wait_log("refused: the milter socket belongs to uid %d" % uid),
                            d.log_text())
        with h.Smtpd(smtpd_milters="unix:" + self.sock, milter_user=NOBODY) as d:
            self.assertRegex(transact(d), h.QUEUED_RE)


class MilterSocket(h.SmtpdTestCase):
    """postern-milter's own unix socket: mode, group, and where it may be."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="postern-sec-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.sockdir = os.path.join(self.dir, "run")
        os.mkdir(self.sockdir, 0o750)
        self.sock = os.path.join(self.sockdir, "milter.sock")
        self.conf = os.path.join(self.dir, "postern.conf")
        self.log = os.path.join(self.dir, "milter.log")

    def write(self, **kw):
        cfg = {"milter_listen": "unix:" + self.sock, "milter_user": ""}
        cfg.update(kw)
        with open(self.conf, "w") as f:
            f.write("".join("%s = %s\n" % kv for kv in cfg.items()))

    def start(self):
        logf = open(self.log, "ab")
        self.addCleanup(logf.close)
        p = subprocess.Popen([MILTER_BIN, "-c", self.conf], stdout=logf, stderr=logf,
                             stdin=subprocess.DEVNULL)
        self.addCleanup(self.stop, p)
        return p

    def stop(self, p):
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def log_text(self):
        with open(self.log, errors="replace") as f:
            return f.read()

    def test_mode_and_group(self):
        group = grp.getgrgid(nobody_ids()[1]).gr_name if os.geteuid() == 0 else \
            grp.getgrgid(os.getegid()).gr_name
        self.write(milter_socket_mode="0640", milter_socket_group=group)
        p = self.start()
        self.assertTrue(postfix.wait_port(self.sock, timeout=15, proc=p), self.log_text())
        st = os.stat(self.sock)
        self.assertEqual(st.st_mode & 0o7777, 0o640)
        self.assertEqual(st.st_gid, grp.getgrnam(group).gr_gid)

    def test_unknown_group_refused(self):
        self.write(milter_socket_group="no-such-group-postern")
        p = self.start()
        self.assertEqual(p.wait(20), 1)
        self.assertEqual(self.log_text(), 'postern-milter: %s: milter_socket_group '
                         '"no-such-group-postern": no such group\n' % self.conf)
        self.assertFalse(os.path.exists(self.sock))
        r = subprocess.run([MILTER_BIN, "-t", "-c", self.conf], capture_output=True, text=True)
        self.assertEqual((r.returncode, r.stdout, r.stderr),
                         (1, "", 'postern-milter: %s: milter_socket_group "no-such-group-postern":'
                          ' no such group\n' % self.conf))

    def test_default_mode_0660(self):
        self.write()
        p = self.start()
        self.assertTrue(postfix.wait_port(self.sock, timeout=15, proc=p), self.log_text())
        self.assertEqual(os.stat(self.sock).st_mode & 0o7777, 0o660)

    def test_directory_writable_by_others_refused(self):
        os.chmod(self.sockdir, 0o777)
        self.write()
        p = self.start()
        self.assertEqual(p.wait(20), 1)
        self.assertEqual(self.log_text(),
                         "postern-milter: %s: directory %s (mode 0777) is writable by others: "
                         "anyone could replace the socket\n" % (self.sock, self.sockdir))
        self.assertFalse(os.path.exists(self.sock))

    def test_directory_of_another_user_refused(self):
        needs_root(self)
        uid, gid = nobody_ids()
        os.chown(self.sockdir, uid, gid)
        self.write()
        p = self.start()
        self.assertEqual(p.wait(20), 1)
        self.assertEqual(self.log_text(),
                         "postern-milter: %s: directory %s is owned by uid %d, not root or the "
                         "milter user\n" % (self.sock, self.sockdir, uid))
        # The same directory is fine when that user is milter_user.
        r = subprocess.run([MILTER_BIN, "-t", "-c", self.conf], capture_output=True, text=True)
        self.assertEqual(r.returncode, 1)
        self.write(milter_user=NOBODY)
        r = subprocess.run([MILTER_BIN, "-t", "-c", self.conf], capture_output=True, text=True)
        self.assertEqual((r.returncode, r.stderr), (0, ""))
        self.assertEqual(r.stdout, "postern-milter: %s: configuration OK\n" % self.conf)


def run_t(binary, conf):
    r = subprocess.run([binary, "-t", "-c", conf], capture_output=True, text=True, timeout=60)
    return r.returncode, r.stdout, r.stderr


class Modes(h.SmtpdTestCase):
    """Secrets readable by others are warned about; a shared spool is refused."""

    def secret_copy(self, d):
        """A copy of the test key, mode 0644, and its certificate, in d's directory."""
        cert, key = h.test_cert()
        c2, k2 = os.path.join(d.dir, "cert.pem"), os.path.join(d.dir, "key.pem")
        shutil.copy(cert, c2)
        shutil.copy(key, k2)
        os.chmod(k2, 0o644)
        return c2, k2

    def test_smtpd_warns_about_secrets(self):
        d = h.Smtpd(tls=True)
        os.chmod(d.accounts_path, 0o644)
        cert, key = self.secret_copy(d)
        d.config.update(smtpd_tls_cert_file=cert, smtpd_tls_key_file=key)
        with open(d.conf_path, "a") as f:
            f.write("smtpd_tls_cert_file = %s\nsmtpd_tls_key_file = %s\n" % (cert, key))
        d.start()
        d.stop()
        log = d.log_text()
        self.assertIn("accounts_file %s: mode 0644 lets every local user read it "
                      "(chmod o-rwx)" % d.accounts_path, log)
        self.assertIn("smtpd_tls_key_file %s: mode 0644 lets every local user read it "
                      "(chmod o-rwx)" % key, log)
        os.chmod(d.accounts_path, 0o640)
        os.chmod(key, 0o600)
        with d:
            self.assertNotIn("lets every local user", d.log_text()[len(log):])

    def test_milter_warns_about_accounts(self):
        d = h.Smtpd()
        os.chmod(d.accounts_path, 0o604)
        port = h.free_port()
        m = postfix.Milter(MILTER_BIN, {"milter_listen": "inet:127.0.0.1:%d" % port,
                                        "milter_user": "", "accounts_file": d.accounts_path},
                           name="sec-milter")
        m.start(wait_port_num=port)
        m.stop()
        self.assertIn("accounts_file %s: mode 0604 lets every local user read it (chmod o-rwx)"
                      % d.accounts_path, m.log())

    def test_shared_spool_refused(self):
        for sub in ("", "tmp", "new"):
            d = h.Smtpd()
            path = os.path.join(d.spool, sub) if sub else d.spool
            os.makedirs(path, exist_ok=True)
            os.chmod(path, 0o777)
            with self.assertRaisesRegex(RuntimeError, "exited with 1 at start"):
                d.start()
            self.assertIn("smtpd_spool_dir %s: directory mode 0777 lets every local user add or "
                          "remove files (chmod o-w): refusing to start" % path.rstrip("/"),
                          d.log_text())
            d.stop()
            os.chmod(path, 0o1733 if sub else 0o755)    # sticky or not, others may not write
            if sub:
                os.chmod(path, 0o750)
            with d:
                self.assertEqual(d.client().cmd("QUIT"), "221 2.0.0 Bye")


class SelfTest(h.SmtpdTestCase):
    """-t: every problem on its own line naming key and file; one line when fine."""

    def test_smtpd_fine(self):
        d = h.Smtpd(tls=True)
        os.chmod(d.accounts_path, 0o600)
        cert, key = h.test_cert()
        k2 = os.path.join(d.dir, "key.pem")
        shutil.copy(key, k2)
        os.chmod(k2, 0o600)
        with open(d.conf_path, "a") as f:
            f.write("smtpd_tls_key_file = %s\n" % k2)
        self.assertEqual(run_t(h.SMTPD_BIN, d.conf_path),
                         (0, "postern-smtpd: %s: configuration OK\n" % d.conf_path, ""))

    def test_smtpd_every_problem(self):
        d = h.Smtpd()
        cert, key = h.test_cert()
        other = os.path.join(d.dir, "other-key.pem")
        subprocess.run(["certtool", "--generate-privkey", "--key-type=ecdsa", "--outfile", other],
                       check=True, capture_output=True)
        os.chmod(other, 0o644)
        os.chmod(d.accounts_path, 0o600)
        with open(d.accounts_path, "a") as f:
            f.write("broken line\n")
        os.makedirs(os.path.join(d.spool, "tmp"))
        os.chmod(os.path.join(d.spool, "tmp"), 0o777)
        with open(d.conf_path, "a") as f:
            f.write("smtpd_tls_cert_file = %s\nsmtpd_tls_key_file = %s\nsmtpd_typo = 1\n"
                    % (cert, other))
        rc, out, err = run_t(h.SMTPD_BIN, d.conf_path)
        self.assertEqual((rc, out), (1, ""))
        lines = err.splitlines()
        nconf = sum(1 for _ in open(d.conf_path))
        self.assertEqual(lines[0], 'postern-smtpd: %s:%d: unknown key "smtpd_typo"'
                         % (d.conf_path, nconf))
        self.assertRegex(lines[1], r"^postern-smtpd: accounts_file %s:\d+: expected "
                         r"name:hash:flags:senders$" % d.accounts_path)
        self.assertTrue(lines[2].startswith("postern-smtpd: smtpd_tls_cert_file/"
                                            "smtpd_tls_key_file "), lines)
        self.assertIn(other, lines[2])
        self.assertEqual(lines[3], "postern-smtpd: smtpd_tls_key_file %s: mode 0644 lets every "
                         "local user read it (chmod o-rwx)" % other)
        self.assertEqual(lines[4], "postern-smtpd: smtpd_spool_dir %s/tmp: directory mode 0777 "
                         "lets every local user add or remove files (chmod o-w)" % d.spool)
        self.assertEqual(len(lines), 5, lines)

    def test_smtpd_milters(self):
        """Each milter is connected to, and its owner checked, as a session would."""
        port = h.free_port()
        name = "inet:127.0.0.1:%d" % port
        d = h.Smtpd(smtpd_milters=name, milter_user="")
        os.chmod(d.accounts_path, 0o600)
        self.assertEqual(run_t(h.SMTPD_BIN, d.conf_path),
                         (1, "", "postern-smtpd: smtpd_milters %s: cannot connect: Connection "
                          "refused\n" % name))
        if os.geteuid() != 0 or not shutil.which("setpriv"):
            return
        sq = Squatter(self, NOBODY, "inet:%d@127.0.0.1" % port, port)
        rc, out, err = run_t(h.SMTPD_BIN, d.conf_path)
        self.assertEqual((rc, out), (1, ""))
        self.assertEqual(err, "postern-smtpd: smtpd_milters %s: refused: the milter socket "
                         "belongs to uid %d, not root, postern-smtpd (uid 0) or milter_user "
                         "(none)\n" % (name, nobody_ids()[0]))
        sq.stop()
        Squatter(self, "root", "inet:%d@127.0.0.1" % port, port)
        self.assertEqual(run_t(h.SMTPD_BIN, d.conf_path),
                         (0, "postern-smtpd: %s: configuration OK\n" % d.conf_path, ""))

    def test_milter(self):
        d = h.Smtpd()
        conf = os.path.join(d.dir, "milter.conf")
        with open(conf, "w") as f:
            f.write("milter_listen = inet:127.0.0.1:%d\nmilter_user =\naccounts_file = %s\n"
                    % (h.free_port(), d.accounts_path))
        os.chmod(d.accounts_path, 0o600)
        self.assertEqual(run_t(MILTER_BIN, conf),
                         (0, "postern-milter: %s: configuration OK\n" % conf, ""))
        os.chmod(d.accounts_path, 0o644)
        with open(d.accounts_path, "a") as f:
            f.write("x:plain::\n")
        rc, out, err = run_t(MILTER_BIN, conf)
        self.assertEqual((rc, out), (1, ""))
        lines = err.splitlines()
        self.assertEqual(lines[0], "postern-milter: accounts_file %s:%d: password must be a "
                         "crypt(3) hash ($y$, $2b$, $6$ or $5$)"
                         % (d.accounts_path, sum(1 for _ in open(d.accounts_path))))
        self.assertEqual(lines[1], "postern-milter: accounts_file %s: mode 0644 lets every local "
                         "user read it (chmod o-rwx)" % d.accounts_path)
        self.assertEqual(len(lines), 2, lines)


def rsa_cert(directory):
    """A self-signed RSA certificate (static-RSA key exchange needs an RSA key)."""
    cert, key = os.path.join(directory, "rsa-cert.pem"), os.path.join(directory, "rsa-key.pem")
    tmpl = os.path.join(directory, "rsa.tmpl")
    with open(tmpl, "w") as f:
        f.write('cn = "%s"\nexpiration_days = 30\ntls_www_server\nsigning_key\n'
                'encryption_key\n' % h.HOSTNAME)
    subprocess.run(["certtool", "--generate-privkey", "--key-type=rsa", "--bits=2048",
                    "--outfile", key], check=True, capture_output=True)
    subprocess.run(["certtool", "--generate-self-signed", "--load-privkey", key,
                    "--template", tmpl, "--outfile", cert], check=True, capture_output=True)
    os.chmod(key, 0o600)
    return cert, key


STATIC_RSA = "NORMAL:-VERS-ALL:+VERS-TLS1.2:-KX-ALL:+RSA"
CBC_ONLY = ("NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+AES-128-CBC:+AES-256-CBC:"
            "-MAC-ALL:+SHA1:+SHA256:+SHA384")
OLD_DEFAULT = "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"


class TlsSuites(h.SmtpdTestCase):
    def gnutls_cli(self, d, priority):
        """Handshake on the implicit-TLS port with that client priority: True if completed."""
        r = subprocess.run(["gnutls-cli", "--insecure", "--priority", priority, "-p",
                            str(d.tls_port), "127.0.0.1"], stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=60)
        out = r.stdout + r.stderr
        done = "Handshake was completed" in out
        self.assertTrue(done or "Handshake failed" in out or "Handshake has failed" in out, out)
        return done

    def smtpd(self, **kw):
        if not shutil.which("gnutls-cli") or not shutil.which("certtool"):
            self.skipTest("gnutls-bin not installed")
        tmp = tempfile.mkdtemp(prefix="postern-rsa-")
        self.addCleanup(shutil.rmtree, tmp, True)
        cert, key = rsa_cert(tmp)
        return h.Smtpd(tls_listen=True, smtpd_tls_cert_file=cert, smtpd_tls_key_file=key, **kw)

    def test_default_refuses_static_rsa_and_cbc(self):
        with self.smtpd() as d:
            self.assertFalse(self.gnutls_cli(d, STATIC_RSA))
            self.assertFalse(self.gnutls_cli(d, CBC_ONLY))
            self.assertTrue(self.gnutls_cli(d, "NORMAL"))
            with d.tls_client() as c:       # Python's ssl, defaults
                self.assertIn(c.tls_version(), ("TLSv1.2", "TLSv1.3"))
                self.assertEqual(c.cmd("QUIT"), "221 2.0.0 Bye")
            with d.tls_client(ctx=h.client_ctx(maxv=__import__("ssl").TLSVersion.TLSv1_2)) as c:
                self.assertEqual(c.tls_version(), "TLSv1.2")
                self.assertRegex(c.sock.cipher()[0], r"^(ECDHE|DHE)-.*(GCM|CHACHA20|CCM)")

    def test_priority_widened(self):
        with self.smtpd(smtpd_tls_priority=OLD_DEFAULT) as d:
            self.assertTrue(self.gnutls_cli(d, STATIC_RSA))
            self.assertTrue(self.gnutls_cli(d, CBC_ONLY))

    def test_bad_priority_refused_at_start(self):
        d = self.smtpd(smtpd_tls_priority="NORMAL:+NO-SUCH-THING")
        with self.assertRaisesRegex(RuntimeError, "exited with 1 at start"):
            d.start()
        self.assertIn('%s: smtpd_tls_priority "NORMAL:+NO-SUCH-THING": ' % d.conf_path,
                      d.log_text())
        d.stop()


def no_new_privs(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("NoNewPrivs:"):
                return int(line.split()[1])
    raise AssertionError("no NoNewPrivs line in /proc/%d/status" % pid)


class NoNewPrivs(h.SmtpdTestCase):
    def test_smtpd(self):
        self.assertEqual(no_new_privs(os.getpid()), 0, "the test itself runs with NoNewPrivs")
        with h.Smtpd() as d:
            self.assertEqual(no_new_privs(d.pid), 1)

    def test_milter(self):
        port = h.free_port()
        m = postfix.Milter(MILTER_BIN, {"milter_listen": "inet:127.0.0.1:%d" % port,
                                        "milter_user": ""}, name="sec-milter")
        m.start(wait_port_num=port)
        try:
            self.assertEqual(no_new_privs(m.proc.pid), 1)
        finally:
            m.stop()


class Passwd(h.SmtpdTestCase):
    """postern-passwd: bcrypt at cost 12 (libxcrypt's default, 5, is ~2 ms a guess)."""

    def test_bcrypt_cost(self):
        binary = os.path.join(h.TOP_BUILDDIR, "tools", "postern-passwd")
        r = subprocess.run([binary, "-m", "bcrypt"], input="s3cret\n", capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        hashed = r.stdout.strip()
        self.assertRegex(hashed, r"^\$2b\$12\$[./A-Za-z0-9]{53}$")
        self.assertEqual(h.crypt.crypt("s3cret", hashed), hashed)


if __name__ == "__main__":
    h.main()
