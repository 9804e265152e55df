"""test_smtpd_dialogs.py - runs every tests/integration/dialogs/*.dialog against postern-smtpd.

Format in dialogs/README. One unittest case per file, named after it.
"""

import ast
import glob
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import smtpd as h  # noqa: E402

DIALOG_DIR = os.path.join(h.HERE, "dialogs")


def parse_config(header):
    if not header.startswith("config:"):
        raise ValueError("first line must be 'config: ...', got %r" % header)
    kw = {}
    for item in header[len("config:"):].split(";"):
        item = item.strip()
        if not item or item == "-":
            continue
        if "=" in item:
            k, v = item.split("=", 1)
            kw[k.strip()] = v.strip()
        elif item in ("tls", "tls_listen", "ipv6"):
            kw[item] = True
        else:
            raise ValueError("bad config item %r" % item)
    return kw


def run_dialog(tc, path):
    with open(path, encoding="utf-8") as f:
        lines = [ln.rstrip("\r\n") for ln in f]
    kw = parse_config(lines[0])
    with h.Smtpd(**kw) as d:
        c = h.Client(d.port, banner=False)
        try:
            for no, ln in enumerate(lines[1:], 2):
                if not ln.strip() or ln.startswith("#"):
                    continue
                where = "%s:%d: %s" % (os.path.basename(path), no, ln)
                if ln.startswith("c -> ") or ln == "c ->":
                    c.send(ln[5:] + "\r\n")
                elif ln.startswith("c => "):
                    c.send(ast.literal_eval("b'''" + ln[5:] + "'''"))
                elif ln.startswith("c <- ") or ln.startswith("c <~ "):
                    want = ln[5:]
                    try:
                        got = c.line()
                    except EOFError:
                        tc.fail("%s\n  connection closed by the server" % where)
                    except OSError as e:
                        tc.fail("%s\n  no reply (%s)" % (where, e))
                    if ln[2:4] == "<-":
                        tc.assertEqual(got, want, where)
                    else:
                        tc.assertTrue(got.startswith(want),
                                      "%s\n  got:  %r\n  want prefix: %r" % (where, got, want))
                elif ln.startswith("c <* "):
                    try:
                        got = c.reply_lines()
                    except (EOFError, OSError) as e:
                        tc.fail("%s\n  no reply (%s)" % (where, e))
                    tc.assertTrue(got[0].startswith(ln[5:]),
                                  "%s\n  got:  %r\n  want prefix: %r" % (where, got, ln[5:]))
                elif ln == "c starttls":
                    tc.assertEqual(c.buf, b"", where + ": data pending before the handshake")
                    c.sock = h.client_ctx().wrap_socket(c.sock)
                elif ln == "c eof":
                    tc.assertTrue(c.closed(10.0), "%s\n  server did not close, sent %r"
                                  % (where, c.leftover))
                else:
                    raise ValueError("%s: unknown step" % where)
        finally:
            c.close()


class Dialogs(h.SmtpdTestCase):
    pass


def _make(path):
    def test(self):
        run_dialog(self, path)
    test.__doc__ = os.path.basename(path)
    return test


for _p in sorted(glob.glob(os.path.join(DIALOG_DIR, "*.dialog"))):
    _name = "test_" + os.path.basename(_p)[:-len(".dialog")]
    setattr(Dialogs, _name, _make(_p))


if __name__ == "__main__":
    h.main()
