#!/usr/bin/env python3
"""test_smtpd_logs.py - postern-smtpd's log lines: RFC 3339 timestamps on stderr
(none under journald), the message line with id, sender and every recipient,
the id on every reply line about a message, quoted values, and never a
password or an AUTH blob."""

import os
import re
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import smtpd as h  # noqa: E402

STAMP_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z postern-smtpd\[\d+\]: ")
KV_RE = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|\S*)')


def fields(line):
    out = {}
    for k, v in KV_RE.findall(line):
        if v.startswith('"'):
            v = re.sub(r"\\(.)", r"\1", v[1:-1])
        out.setdefault(k, v)
    return out


class Logs(h.SmtpdTestCase):
    def test_timestamps_on_stderr(self):
        with h.Smtpd() as d:
            with d.client() as c:
                c.cmd("QUIT")
            self.assertTrue(d.wait_log(" disconnect ", 10))
            lines = [ln for ln in d.log_text().splitlines() if ln]
        self.assertGreater(len(lines), 3)
        for ln in lines:
            self.assertRegex(ln, STAMP_RE)

    def test_no_timestamp_under_journald(self):
        os.environ["JOURNAL_STREAM"] = "8:12345"
        try:
            with h.Smtpd() as d:
                with d.client() as c:
                    c.cmd("QUIT")
                self.assertTrue(d.wait_log(" disconnect ", 10))
                lines = [ln for ln in d.log_text().splitlines() if ln]
        finally:
            del os.environ["JOURNAL_STREAM"]
        self.assertGreater(len(lines), 3)
        for ln in lines:
            self.assertRegex(ln, r"^postern-smtpd\[\d+\]: ")

    def test_message_line_and_replies_carry_the_id(self):
        rcpts = ["r%03d-%s@example.org" % (i, "x" * 40) for i in range(40)] + ['"two words"@example.net']
        d = h.Smtpd(smtpd_max_recipients=100, message_size_limit=2000, smtpd_require_auth=True)
        d.start()
        with d.client() as c:
            c.ehlo()
            self.assertEqual(c.auth_plain("alice"), "235 2.7.0 Authentication successful")
            m = h.QUEUED_RE.match(c.send_message("Subject: a\r\n\r\nhello\r\n",
                                                 sender="alice@example.com", rcpts=rcpts))
            self.assertTrue(m)
            msgid = m.group(1)
            self.assertEqual(c.send_message("Subject: b\r\n\r\n" + "y" * 3000 + "\r\n",
                                            sender="alice@example.com"),
                             "552 5.3.4 Message size exceeds fixed limit")
            self.assertEqual(c.cmd("RCPT TO:<late@example.org>"), "503 5.5.1 Need MAIL command")
            c.cmd("QUIT")
        self.assertTrue(d.wait_log(" disconnect ", 10))
        text = d.log_text()
        d.stop()
        queued = [fields(ln) for ln in text.splitlines() if " queued id=%s " % msgid in ln]
        self.assertGreater(len(queued), 1)      # 41 long recipients do not fit one line
        first = queued[0]
        self.assertEqual(first["from"], "<alice@example.com>")
        self.assertEqual(first["account"], "alice")
        self.assertEqual(first["nrcpt"], "41")
        got = []
        for f in queued:
            self.assertEqual(f["id"], msgid)
            got += re.findall(r'<[^<>]+>', f["to"])
        self.assertEqual(got, ["<%s>" % r for r in rcpts])
        # The refusal of the second message names that message; the stray RCPT after it does not.
        refusals = [ln for ln in text.splitlines() if "reply=" in ln]
        size = [fields(ln) for ln in refusals if "552 5.3.4" in ln]
        self.assertEqual(len(size), 1)
        self.assertRegex(size[0].get("id", ""), h.UUID7)
        self.assertNotEqual(size[0]["id"], msgid)
        self.assertEqual(size[0]["reply"], "552 5.3.4 Message size exceeds fixed limit")
        stray = [fields(ln) for ln in refusals if "503 5.5.1" in ln]
        self.assertEqual(len(stray), 1)
        self.assertNotIn("id", stray[0])

    def test_never_a_password_or_auth_blob(self):
        pw = h.ACCOUNTS["alice"][0]
        d = h.Smtpd(smtpd_require_auth=True)
        d.start()
        with d.client() as c:
            c.ehlo()
            self.assertEqual(c.auth_plain("alice", "wrong-" + pw),
                             "535 5.7.8 Authentication credentials invalid")
            self.assertEqual(c.cmd("AUTH LOGIN"), "334 VXNlcm5hbWU6")
            c.cmd(h.b64("alice"))
            self.assertEqual(c.cmd(h.b64(pw)), "235 2.7.0 Authentication successful")
            c.cmd("QUIT")
        self.assertTrue(d.wait_log(" disconnect ", 10))
        text = d.log_text()
        d.stop()
        self.assertIn("auth ok user=alice", text)
        for secret in (pw, h.plain_b64("alice", pw), h.plain_b64("alice", "wrong-" + pw), h.b64(pw)):
            self.assertNotIn(secret, text)


if __name__ == "__main__":
    h.main()
