"""sendmail.py - a private Sendmail 8 for integration tests, unpacked, not installed.

Debian's sendmail-bin conflicts with postfix, so scripts/install-deps.sh only
downloads the packages (apt-get download) into SENDMAIL_DEBS; this module
unpacks them with dpkg -x into a temp dir for each instance. See
../shared/notes/real-mtas.md for the traps this works around:
  - the binary is setgid mail, so the loader would ignore LD_LIBRARY_PATH
    (for the unpacked libwrap): the private copy has the bit cleared;
  - with a host name that has no domain, Sendmail sleeps 60 s at start: it
    runs in its own UTS and mount namespaces (unshare -u -m) with a fully
    qualified name and its own /etc/hosts bound over the real one;
  - sendmail.cf is built with m4 from the unpacked cf/ tree, listening on
    127.0.0.1 only (no_default_msa), queueing and never delivering.
The milter lines are contrib/sendmail/postern.mc itself, with the port of
the test's milter in place of 8891: the file operators copy is what runs.

Logins (sasl_users): Sendmail reads its Cyrus SASL config only from fixed
places (/etc/sasl2/Sendmail.conf, the plugin directory, ...), none of which
exists here, so a private copy of the plugin directory with Sendmail.conf
and a sasldb2 is bound over the real one inside the mount namespace. It
must be root's and not group- or world-writable, or Sendmail ignores it.
"""

import glob
import os
import shutil
import signal
import subprocess
import tempfile
import time

import postfix  # free_port, wait_port, SASLPASSWD2

HERE = os.path.dirname(os.path.abspath(__file__))
TOP_SRC = os.environ.get("top_srcdir", os.path.join(HERE, "..", ".."))
POSTERN_MC = os.path.join(TOP_SRC, "contrib", "sendmail", "postern.mc")
SENDMAIL_DEBS = os.environ.get("POSTERN_SENDMAIL_DEBS", "/var/cache/postern/sendmail-debs")
HOSTNAME = "mx.postern.test"
# Cyrus SASL's plugin directory, where Sendmail also looks for Sendmail.conf.
SASL_PLUGINS = next(iter(sorted(glob.glob("/usr/lib/*/sasl2/libsasldb.so*"))), None)
SASL_PLUGIN_DIR = os.path.dirname(SASL_PLUGINS) if SASL_PLUGINS else None


def usable():
    """Why a private Sendmail cannot run here, or None when it can."""
    if os.geteuid() != 0:
        return "a private Sendmail needs root (namespaces, bind mount)"
    for tool in ("dpkg", "m4", "unshare", "mount", "hostname"):
        if shutil.which(tool) is None:
            return "%s is missing (scripts/install-deps.sh)" % tool
    if SASL_PLUGIN_DIR is None or postfix.SASLPASSWD2 is None:
        return "Cyrus SASL's sasldb plugin or saslpasswd2 is missing (scripts/install-deps.sh)"
    if not os.path.isdir(SENDMAIL_DEBS) or not any(
            n.startswith("sendmail-bin_") for n in os.listdir(SENDMAIL_DEBS)):
        return "no Sendmail packages in %s (scripts/install-deps.sh downloads them)" % SENDMAIL_DEBS
    return None


MC = """\
divert(-1)
include(`{cf}/m4/cf.m4')
divert(0)dnl
VERSIONID(`postern integration test')dnl
OSTYPE(`linux')dnl
define(`confDONT_PROBE_INTERFACES', `True')dnl
define(`QUEUE_DIR', `{dir}/mqueue')dnl
define(`confPID_FILE', `{dir}/sendmail.pid')dnl
define(`STATUS_FILE', `{dir}/statistics')dnl
define(`ALIAS_FILE', `')dnl
define(`confHELP_FILE', `')dnl
define(`confDELIVERY_MODE', `queue')dnl
define(`confQUEUE_LA', `100')dnl
define(`confREFUSE_LA', `100')dnl
define(`confDONT_BLAME_SENDMAIL', `GroupWritableDirPathSafe')dnl
FEATURE(`nocanonify')dnl
FEATURE(`accept_unresolvable_domains')dnl
FEATURE(`promiscuous_relay')dnl
FEATURE(`no_default_msa')dnl
DAEMON_OPTIONS(`Port={port}, Addr=127.0.0.1, Name=MTA')dnl
define(`confAUTH_MECHANISMS', `PLAIN LOGIN')dnl
TRUST_AUTH_MECH(`PLAIN LOGIN')dnl
include(`{dir}/postern.mc')dnl
MAILER(`smtp')dnl
"""

RUN_SH = """\
#!/bin/sh
# In private UTS and mount namespaces: a fully qualified name, our own hosts file.
set -e
mount --bind {dir}/hosts /etc/hosts
mount --bind {dir}/sasl2 {sasl}
hostname {host}
export LD_LIBRARY_PATH={libs}
exec {dir}/sendmail -bD -C {dir}/sendmail.cf -X {dir}/traffic.log
"""


class PrivateSendmail:
    """Sendmail on 127.0.0.1:<port> with postern.mc pointing at milter_port."""

    def __init__(self, milter_port, sasl_users=None):
        self.dir = tempfile.mkdtemp(prefix="postern-sm-")
        self.port = postfix.free_port()
        self.milter_port = milter_port
        self.sasl_users = dict(sasl_users or {})
        self.proc = None

    def _sasl(self):
        """The plugin directory's private copy: the plugins, Sendmail.conf, sasldb2."""
        priv = os.path.join(self.dir, "sasl2")
        shutil.copytree(SASL_PLUGIN_DIR, priv, symlinks=True)
        os.chmod(priv, 0o755)
        db = os.path.join(priv, "sasldb2")
        with open(os.path.join(priv, "Sendmail.conf"), "w") as f:
            # The path as Sendmail sees it, through the bind mount.
            f.write("pwcheck_method: auxprop\nauxprop_plugin: sasldb\n"
                    "mech_list: PLAIN LOGIN\nsasldb_path: %s/sasldb2\n" % SASL_PLUGIN_DIR)
        for user, password in self.sasl_users.items():
            # Sendmail's realm is its host name.
            subprocess.run([postfix.SASLPASSWD2, "-f", db, "-c", "-p", "-u", HOSTNAME, user],
                           input=password, text=True, check=True, capture_output=True)
        if os.path.exists(db):
            os.chmod(db, 0o600)     # group-readable, Sendmail would not use it

    def _unpack(self):
        root = os.path.join(self.dir, "root")
        os.mkdir(root)
        for name in sorted(os.listdir(SENDMAIL_DEBS)):
            if name.endswith(".deb"):
                subprocess.run(["dpkg", "-x", os.path.join(SENDMAIL_DEBS, name), root], check=True)
        binary = os.path.join(self.dir, "sendmail")
        shutil.copyfile(os.path.join(root, "usr", "libexec", "sendmail", "sendmail"), binary)
        os.chmod(binary, 0o755)         # no setgid: LD_LIBRARY_PATH must apply
        return root

    def start(self):
        root = self._unpack()
        self._sasl()
        os.mkdir(os.path.join(self.dir, "mqueue"), 0o700)
        with open(POSTERN_MC) as f:
            mc = f.read()
        if "S=inet:8891@127.0.0.1" not in mc:
            raise AssertionError("contrib/sendmail/postern.mc no longer has S=inet:8891@127.0.0.1")
        with open(os.path.join(self.dir, "postern.mc"), "w") as f:
            f.write(mc.replace("S=inet:8891@127.0.0.1", "S=inet:%d@127.0.0.1" % self.milter_port))
        with open(os.path.join(self.dir, "sendmail.mc"), "w") as f:
            f.write(MC.format(cf=os.path.join(root, "usr", "share", "sendmail", "cf"),
                              dir=self.dir, port=self.port))
        with open(os.path.join(self.dir, "sendmail.mc")) as src, \
                open(os.path.join(self.dir, "sendmail.cf"), "w") as out:
            m4 = subprocess.run(["m4"], stdin=src, stdout=out, stderr=subprocess.PIPE, text=True)
        if m4.returncode != 0 or "ERROR" in m4.stderr:
            raise AssertionError("m4 sendmail.mc failed:\n" + m4.stderr)
        with open(os.path.join(self.dir, "hosts"), "w") as f:
            f.write("127.0.0.1 localhost\n127.0.1.1 %s %s\n" % (HOSTNAME, HOSTNAME.split(".")[0]))
        run = os.path.join(self.dir, "run.sh")
        with open(run, "w") as f:
            f.write(RUN_SH.format(dir=self.dir, host=HOSTNAME, sasl=SASL_PLUGIN_DIR,
                                  libs=os.path.join(root, "usr", "lib", "x86_64-linux-gnu")))
        os.chmod(run, 0o755)
        self.log = open(os.path.join(self.dir, "sendmail.out"), "w")
        self.proc = subprocess.Popen(["unshare", "-u", "-m", "--propagation", "private", run],
                                     stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        if not postfix.wait_port(self.port, timeout=30, proc=self.proc):
            raise AssertionError("Sendmail did not listen on %d:\n%s" % (self.port, self.output()))
        return self

    def output(self):
        with open(os.path.join(self.dir, "sendmail.out")) as f:
            return f.read()

    def traffic(self):
        """The SMTP dialogue Sendmail logged (-X)."""
        try:
            with open(os.path.join(self.dir, "traffic.log"), errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def stop(self):
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        # Children of the daemon (one per SMTP session) share its process group.
        deadline = time.time() + 5
        while time.time() < deadline:
            try:
                os.killpg(self.proc.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        self.proc = None
        self.log.close()

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.cleanup()
