"""test_smtpd_config.py - listen and milter addresses in postern.conf: a bad one stops
either daemon at start with `file:line: key: reason` (lib/config.c, lib/endpoint.c), and
a key no program knows (a typo) is refused by every program."""

import os
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import smtpd as h  # noqa: E402

MILTER_BIN = os.path.join(h.TOP_BUILDDIR, "milter", "postern-milter")
CHECK_BIN = os.path.join(h.TOP_BUILDDIR, "tools", "postern-check")


class SmtpdAddresses(h.SmtpdTestCase):
    def refused(self, want, **cfg):
        d = h.Smtpd(**cfg)
        with self.assertRaises(RuntimeError) as cm:
            d.start()
        d.stop()
        self.assertIn("exited with 1 at start", str(cm.exception))
        key = want.split(":", 1)[0]
        with open(d.conf_path) as f:
            line = [ln.split("=")[0].strip() for ln in f].index(key) + 1
        self.assertIn("postern-smtpd: %s:%d: %s" % (d.conf_path, line, want), d.log_text())

    def test_listen_port_out_of_range(self):
        self.refused('smtpd_listen: bad address "127.0.0.1:99999": port 99999 out of range '
                     "1-65535 (HOST:PORT or [ADDR]:PORT)", smtpd_listen="127.0.0.1:99999")

    def test_tls_listen_port_zero(self):
        self.refused('smtpd_tls_listen: bad address "127.0.0.1:0": port 0 out of range 1-65535 '
                     "(HOST:PORT or [ADDR]:PORT)", tls=True, smtpd_tls_listen="127.0.0.1:0")

    def test_listen_v6_without_brackets(self):
        self.refused('smtpd_listen: bad address "::1:25": an IPv6 address needs brackets: '
                     "[::1]:PORT (HOST:PORT or [ADDR]:PORT)", smtpd_listen="::1:25")

    def test_milter_port_out_of_range(self):
        self.refused('smtpd_milters: bad milter socket "inet:127.0.0.1:70000" (inet:HOST:PORT, '
                     "inet6:[ADDR]:PORT or unix:PATH): port 70000 out of range 1-65535",
                     smtpd_milters="inet:127.0.0.1:70000")


class UnknownKeys(h.SmtpdTestCase):
    """The typo of issue 19: every program refuses it with file:line, whichever program
    the key was meant for; a module's key passes postern-smtpd only when policy_modules
    names that module's file (the milter then checks it against the module itself)."""

    def run_all(self, text):
        with tempfile.TemporaryDirectory(prefix="postern-conf-") as tmp:
            conf = os.path.join(tmp, "postern.conf")
            with open(conf, "w") as f:
                f.write(text)
            out = {}
            for name, binary in (("postern-smtpd", h.SMTPD_BIN), ("postern-milter", MILTER_BIN),
                                 ("postern-check", CHECK_BIN)):
                r = subprocess.run([binary, "-n", "-c", conf], capture_output=True, text=True,
                                   stdin=subprocess.DEVNULL, timeout=60 * h.SLOW)
                out[name] = (r.returncode, r.stderr.strip().replace(conf, "CONF"))
            return out

    def test_typo_refused_by_every_program(self):
        out = self.run_all("smtpd_listen = 127.0.0.1:2525\nmesage_size_limit = 10m\n")
        self.assertEqual(out, {
            "postern-smtpd": (1, "postern-smtpd: CONF:2: mesage_size_limit: unknown key"),
            "postern-milter": (1, "postern-milter: CONF:2: mesage_size_limit: unknown key"),
            "postern-check": (2, "postern-check: CONF:2: mesage_size_limit: unknown key"),
        })

    def test_module_key_without_the_module(self):
        out = self.run_all("policy_modules =\nsubjectfilter_words = lottery\n")
        for name, (rc, err) in out.items():
            self.assertNotEqual(rc, 0, name)
            self.assertEqual(err, "%s: CONF:2: subjectfilter_words: unknown key" % name)

    def test_module_key_with_its_module_file_passes_smtpd(self):
        module = os.path.join(h.TOP_BUILDDIR, "tests", "unit", "modules", "verdict.so")
        out = self.run_all("policy_modules = %s\nverdict_verdict = continue\n" % module)
        self.assertEqual(out["postern-smtpd"], (0, ""))
        self.assertEqual(out["postern-check"][0], 0, out)
        self.assertEqual(out["postern-milter"][0], 0, out)


class MilterAddresses(h.SmtpdTestCase):
    def refused(self, listen, want):
        if not os.access(MILTER_BIN, os.X_OK):
            self.skipTest("postern-milter not built")
        with tempfile.TemporaryDirectory(prefix="postern-milter-") as tmp:
            conf = os.path.join(tmp, "postern.conf")
            with open(conf, "w") as f:
                f.write("milter_listen = %s\nmilter_user =\n" % listen)
            r = subprocess.run([MILTER_BIN, "-c", conf], capture_output=True, text=True,
                               stdin=subprocess.DEVNULL, timeout=60 * h.SLOW)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("%s:1: milter_listen: bad address \"%s\": %s (inet:HOST:PORT, "
                      "inet6:[ADDR]:PORT or unix:/PATH)" % (conf, listen, want), r.stderr)

    def test_port_out_of_range(self):
        self.refused("inet:127.0.0.1:99999", "port 99999 out of range 1-65535")

    def test_relative_unix_path(self):
        self.refused("unix:milter.sock", "unix socket path must be absolute")


if __name__ == "__main__":
    h.main()
