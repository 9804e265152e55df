"""postfix.py - run a private Postfix (and postern-milter) under a temp dir, for tests and benchmarks.

Everything lives under one temp dir: config, queue, data, logs. smtpd listens on
127.0.0.1:<free port>, every transport is `discard`, logs go to a file through
the postlog service (there is no syslog here), chroot is off. Notes on why each
setting is there: shared/notes/real-mtas.md.

    with PrivatePostfix(milter="inet:127.0.0.1:%d" % port) as pf:
        smtplib.SMTP("127.0.0.1", pf.port)

    with Milter(binary, {"milter_listen": ...}) as m:
        m.hup(); m.wait_log("reloaded")
"""

import atexit
import grp
import os
import pwd
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import time

SBIN_PATH = os.environ.get("PATH", "") + ":/usr/sbin:/sbin"
POSTFIX = shutil.which("postfix", path=SBIN_PATH)
# Cyrus SASL's sasldb tool (package sasl2-bin): lets Postfix log clients in, so it sends {auth_authen}.
SASLPASSWD2 = shutil.which("saslpasswd2", path=SBIN_PATH)

# The milter macros Postern needs, per stage (contrib/postfix/README.md lists the same).
MILTER_MACROS = {
    "milter_connect_macros": "j {daemon_name} {client_addr} {client_name} {client_port} {client_ptr}",
    "milter_helo_macros": "{tls_version} {cipher} {cipher_bits} {cert_subject} {cert_issuer}",
    "milter_mail_macros": "i {auth_type} {auth_authen} {auth_author} {mail_addr} {mail_host} {mail_mailer}",
    "milter_rcpt_macros": "i {rcpt_addr} {rcpt_host} {rcpt_mailer}",
    "milter_end_of_header_macros": "i",
    "milter_end_of_data_macros": "i",
}

_cleanups = []


def _run_cleanups():
    while _cleanups:
        fn = _cleanups.pop()
        try:
            fn()
        except Exception:  # noqa: BLE001 - best effort at exit
            pass


atexit.register(_run_cleanups)


def free_port():
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=15.0, proc=None):
    """Wait until 127.0.0.1:port (or, when port is a str, the unix socket at that path;
    when a (host, port) pair, that address, ::1 say) accepts a connection; False on
    timeout or if proc died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            if isinstance(port, str):
                with socket.socket(socket.AF_UNIX) as s:
                    s.settimeout(0.5)
                    s.connect(port)
            else:
                addr = port if isinstance(port, tuple) else ("127.0.0.1", port)
                socket.create_connection(addr, timeout=0.5).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def usable():
    """Why a private Postfix cannot run here, or None when it can."""
    if POSTFIX is None:
        return "postfix is not installed (scripts/install-deps.sh)"
    if os.geteuid() != 0:
        return "a private Postfix needs root"
    try:
        pwd.getpwnam("postfix")
    except KeyError:
        return "no postfix user"
    return None


MASTER_CF = """\
# service type  private unpriv  chroot  wakeup  maxproc command
{listen} inet n - n - {maxproc} smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""


class PrivatePostfix:
    """A throw-away Postfix instance; start() / stop(), or use it as a context manager."""

    def __init__(self, milter=None, main_cf=None, maxproc=100, name="pf", sasl_users=None,
                 master_extra=""):
        self.port = free_port()
        # mkdtemp gives 0700: the postfix user must traverse it to reach its queue.
        self.dir = tempfile.mkdtemp(prefix="postern-%s-" % name)
        os.chmod(self.dir, 0o755)
        self.confdir = os.path.join(self.dir, "etc")
        self.queue = os.path.join(self.dir, "queue")
        self.data = os.path.join(self.dir, "data")
        self.maillog = os.path.join(self.dir, "maillog")
        self.milter = milter
        self.maxproc = maxproc
        self.extra = dict(main_cf or {})
        # {user: password}: AUTH PLAIN/LOGIN against a private sasldb (needs saslpasswd2).
        self.sasl_users = dict(sasl_users or {})
        # More master.cf lines (a pipe transport that saves messages, say).
        self.master_extra = master_extra
        # Debian's Postfix reads $config_directory/sasl/smtpd.conf (upstream: cyrus_sasl_config_path).
        self.sasldir = os.path.join(self.confdir, "sasl")
        self.running = False
        _cleanups.append(self.cleanup)

    def _main_cf(self):
        cf = {
            "compatibility_level": "3.6",
            "config_directory": self.confdir,
            "queue_directory": self.queue,
            "data_directory": self.data,
            "mail_owner": "postfix",
            "setgid_group": "postdrop",
            "myhostname": "postern-test.invalid",
            "mydomain": "invalid",
            "myorigin": "$myhostname",
            "mydestination": "",
            "mynetworks": "127.0.0.0/8",
            "inet_interfaces": "127.0.0.1",
            "inet_protocols": "ipv4",
            "smtpd_relay_restrictions": "permit_mynetworks, reject",
            "default_transport": "discard",
            "relay_transport": "discard",
            "local_transport": "discard",
            "virtual_transport": "discard",
            "alias_maps": "",
            "alias_database": "",
            "local_recipient_maps": "",
            "biff": "no",
            "smtpd_banner": "$myhostname ESMTP",
            "maillog_file": self.maillog,
            "maillog_file_prefixes": self.dir,
            "smtputf8_enable": "no",
            # Postfix would otherwise "fix" headers of local clients before the milter sees
            # them (add a missing From:, rewrite addresses): the rules must see the original.
            "local_header_rewrite_clients": "",
            # Milter: the Postfix side of contrib/postfix/main.cf.snippet.
            "milter_protocol": "6",
            "milter_default_action": "tempfail",
            "milter_connect_timeout": "5s",
            "milter_command_timeout": "30s",
            "milter_content_timeout": "120s",
            "message_size_limit": "52428800",
        }
        if self.milter:
            cf["smtpd_milters"] = self.milter
            cf.update(MILTER_MACROS)
        if self.sasl_users:
            cf.update({
                "smtpd_sasl_auth_enable": "yes",
                "smtpd_sasl_type": "cyrus",
                "smtpd_sasl_path": "smtpd",
                "cyrus_sasl_config_path": self.sasldir,
                "smtpd_sasl_security_options": "noanonymous",
                "smtpd_sasl_local_domain": "",
            })
        cf.update(self.extra)
        return "".join("%s = %s\n" % kv for kv in cf.items())

    def start(self):
        os.makedirs(self.confdir)
        os.makedirs(self.queue, mode=0o755)
        os.makedirs(self.data, mode=0o700)
        pf = pwd.getpwnam("postfix")
        # master takes data/master.lock as the postfix user (real-mtas.md).
        os.chown(self.data, pf.pw_uid, pf.pw_gid)
        with open(os.path.join(self.confdir, "main.cf"), "w") as f:
            f.write(self._main_cf())
        with open(os.path.join(self.confdir, "master.cf"), "w") as f:
            f.write(MASTER_CF.format(listen="127.0.0.1:%d" % self.port, maxproc=self.maxproc))
            f.write(self.master_extra)
        self._make_queue(pf)
        if self.sasl_users:
            self._make_sasldb(pf)
        # quick-start skips postfix-script's integrity scans (seconds each): the tree is fresh.
        open(os.path.join(self.queue, "quick-start"), "w").close()
        self._postfix("start")
        self.running = True
        if not wait_port(self.port, timeout=20):
            raise RuntimeError("postfix did not listen on %d:\n%s" % (self.port, self.log()))
        return self

    # Queue subdirectories as post-install creates them (postfix-files), owner postfix unless noted.
    QUEUE_DIRS = (("active", 0o700), ("bounce", 0o700), ("corrupt", 0o700), ("defer", 0o700),
                  ("deferred", 0o700), ("flush", 0o700), ("hold", 0o700), ("incoming", 0o700),
                  ("private", 0o700), ("saved", 0o700), ("trace", 0o700),
                  ("maildrop", 0o730), ("public", 0o710), ("pid", 0o755))

    def _make_queue(self, pf):
        postdrop = grp.getgrnam("postdrop").gr_gid
        for name, mode in self.QUEUE_DIRS:
            path = os.path.join(self.queue, name)
            os.mkdir(path)
            os.chmod(path, mode)
            if name == "pid":
                continue  # master writes master.pid as root
            os.chown(path, pf.pw_uid, postdrop if name in ("maildrop", "public") else 0)

    def _make_sasldb(self, pf):
        """smtpd.conf + sasldb2 readable by smtpd (it runs as postfix, unchrooted)."""
        if SASLPASSWD2 is None:
            raise RuntimeError("saslpasswd2 missing (apt-get install sasl2-bin)")
        os.makedirs(self.sasldir, mode=0o750)
        db = os.path.join(self.sasldir, "sasldb2")
        with open(os.path.join(self.sasldir, "smtpd.conf"), "w") as f:
            f.write("pwcheck_method: auxprop\nauxprop_plugin: sasldb\n"
                    "mech_list: PLAIN LOGIN\nsasldb_path: %s\n" % db)
        for user, password in self.sasl_users.items():
            subprocess.run([SASLPASSWD2, "-f", db, "-c", "-p", "-u", "postern-test.invalid", user],
                           input=password, text=True, check=True, capture_output=True)
        for path in (self.sasldir, db, os.path.join(self.sasldir, "smtpd.conf")):
            os.chown(path, pf.pw_uid, pf.pw_gid)

    def _postfix(self, cmd, check=True):
        r = subprocess.run([POSTFIX, "-c", self.confdir, cmd], capture_output=True, text=True,
                           timeout=60)
        if check and r.returncode != 0:
            raise RuntimeError("postfix %s failed (%d): %s%s\n%s" % (cmd, r.returncode, r.stdout,
                                                                    r.stderr, self.log()))
        return r

    def reload(self):
        self._postfix("reload")

    def set_main(self, key, value):
        """Change one main.cf setting (takes effect after reload())."""
        self.extra[key] = value
        with open(os.path.join(self.confdir, "main.cf"), "w") as f:
            f.write(self._main_cf())

    def log(self):
        try:
            with open(self.maillog, errors="replace") as f:
                return f.read()
        except OSError:
            return "(no maillog)"

    def stop(self):
        if not self.running:
            return
        self.running = False
        self._postfix("stop", check=False)
        # stop signals master and returns; wait until it has released the port and the queue.
        pidfile = os.path.join(self.queue, "pid", "master.pid")
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                with open(pidfile) as f:
                    pid = int(f.read().strip())
                os.kill(pid, 0)
            except (OSError, ValueError):
                break
            time.sleep(0.05)

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.cleanup()


class Milter:
    """postern-milter (or any milter binary) in the foreground, its stderr in a file."""

    def __init__(self, binary, settings=None, args=None, name="milter", dir=None):
        self.binary = binary
        self.dir = dir or tempfile.mkdtemp(prefix="postern-%s-" % name)
        os.chmod(self.dir, 0o755)
        self.conf = os.path.join(self.dir, "postern.conf")
        self.logfile = os.path.join(self.dir, "milter.log")
        self.settings = dict(settings or {})
        self.args = list(args or [])
        self.proc = None
        _cleanups.append(self.cleanup)

    def write_config(self, **changes):
        self.settings.update(changes)
        with open(self.conf, "w") as f:
            for k, v in self.settings.items():
                f.write("%s = %s\n" % (k, v))

    def start(self, wait_port_num=None, config=True):
        if config:
            self.write_config()
        # MILTER_WRAPPER="valgrind --error-exitcode=99 ..." runs the milter under a checker.
        argv = shlex.split(os.environ.get("MILTER_WRAPPER", "")) + [self.binary]
        argv += (["-c", self.conf] if config else []) + self.args
        if getattr(self, "_log", None):
            self._log.close()       # a restart: the earlier run's handle
        self._log = open(self.logfile, "ab")
        self.proc = subprocess.Popen(argv, stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        if wait_port_num is not None and not wait_port(wait_port_num, timeout=15, proc=self.proc):
            raise RuntimeError("milter did not listen on %d:\n%s" % (wait_port_num, self.log()))
        return self

    def log(self):
        with open(self.logfile, errors="replace") as f:
            return f.read()

    def wait_log(self, needle, timeout=20.0, after=0):
        """Wait for needle in the log past offset `after`; returns the log text or raises."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.log()
            if needle in text[after:]:
                return text
            time.sleep(0.05)
        raise AssertionError("%r not in milter log:\n%s" % (needle, self.log()))

    def hup(self):
        self.proc.send_signal(signal.SIGHUP)

    def terminate(self, timeout=15):
        """SIGTERM; returns the exit status."""
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout)

    def stop(self, timeout=15):
        """SIGTERM, SIGKILL if it hangs; the exit status (negative: killed by that signal).
        A graceful exit lets a checker (MILTER_WRAPPER, ASan) report through the status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def cleanup(self):
        self.stop()
        if getattr(self, "_log", None):
            self._log.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.cleanup()
