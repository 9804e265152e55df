"""test_smtpd_config.py - listen and milter addresses in postern.conf: a bad one stops
either daemon at start with the config file and the reason (lib/endpoint.c)."""

import os
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import smtpd as h  # noqa: E402

MILTER_BIN = os.path.join(h.TOP_BUILDDIR, "milter", "postern-milter")


class SmtpdAddresses(h.SmtpdTestCase):
    def refused(self, want, **cfg):
        d = h.Smtpd(**cfg)
        with self.assertRaises(RuntimeError) as cm:
            d.start()
        d.stop()
        self.assertIn("exited with 1 at start", str(cm.exception))
        self.assertIn("postern-smtpd: %s: %s" % (d.conf_path, want), d.log_text())

    def test_listen_port_out_of_range(self):
        self.refused('smtpd_listen: bad address "127.0.0.1:99999" (HOST:PORT or [V6]:PORT): '
                     "port 99999 out of range 1-65535", smtpd_listen="127.0.0.1:99999")

    def test_tls_listen_port_zero(self):
        self.refused('smtpd_tls_listen: bad address "127.0.0.1:0" (HOST:PORT or [V6]:PORT): '
                     "port 0 out of range 1-65535", tls=True, smtpd_tls_listen="127.0.0.1:0")

    def test_listen_v6_without_brackets(self):
        self.refused('smtpd_listen: bad address "::1:25" (HOST:PORT or [V6]:PORT): '
                     "an IPv6 address needs brackets: [::1]:PORT", smtpd_listen="::1:25")

    def test_milter_port_out_of_range(self):
        self.refused('smtpd_milters: bad milter socket "inet:127.0.0.1:70000" (inet:HOST:PORT, '
                     "inet6:[ADDR]:PORT or unix:PATH): port 70000 out of range 1-65535",
                     smtpd_milters="inet:127.0.0.1:70000")


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
        self.assertIn("%s: milter_listen \"%s\": %s (inet:HOST:PORT, inet6:[HOST]:PORT or unix:/PATH)"
                      % (conf, listen, want), r.stderr)

    def test_port_out_of_range(self):
        self.refused("inet:127.0.0.1:99999", "port 99999 out of range 1-65535")

    def test_relative_unix_path(self):
        self.refused("unix:milter.sock", "unix socket path must be absolute")


if __name__ == "__main__":
    h.main()
