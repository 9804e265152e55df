#!/usr/bin/env python3
"""test_sendmail_milter.py - postern-milter behind a real, private Sendmail 8.

The other MTA the milter is made for. Sendmail is unpacked from Debian's
packages (sendmail.py), configured with contrib/sendmail/postern.mc as an
operator would, with Cyrus SASL logins (sasldb), and driven by smtplib. It
shows:
  - the golden corpus (tests/corpus/expected.txt) gives the replies it gives
    behind Postfix, every row, the ones that log in too (so {auth_authen}
    reaches the milter through postern.mc's macro lists), except where
    Sendmail itself differs, asserted as such: at MAIL it puts the address
    before the milter's text ("550 5.7.1 <>... Empty sender not allowed");
  - a clean message's verdict line carries Sendmail's queue id (macro i),
    and a logged-in one the account;
  - the milter down: postern.mc's F=T makes Sendmail tempfail at MAIL.

Exit status: 0 all passed, 1 a failure, 77 skipped (not root, no packages).
"""

import base64
import os
import re
import smtplib
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True
import postfix  # noqa: E402
import sendmail  # noqa: E402

TOP_BUILD = os.environ.get("top_builddir", os.path.join(HERE, "..", ".."))
TOP_SRC = os.environ.get("top_srcdir", os.path.join(HERE, "..", ".."))
MILTER = os.path.join(TOP_BUILD, "milter", "postern-milter")
CORPUS = os.path.join(TOP_SRC, "tests", "corpus")
RCPT = "rcpt@example.net"
CLEAN = (b"From: <alice@example.com>\r\nTo: <rcpt@example.net>\r\nSubject: hello\r\n"
         b"Date: Thu, 1 Jan 2026 00:00:00 +0000\r\nMessage-ID: <sm1@example.com>\r\n\r\n"
         b"Hi there.\r\n")


PASSWORD = "correct horse"


def submit(port, sender, data, login=None):
    """One transaction; (stage, "code text") of the reply that ended it.
    login: an account name, AUTH PLAIN with PASSWORD first."""
    s = smtplib.SMTP("127.0.0.1", port, timeout=60)
    try:
        s.ehlo("client.example")
        if login:
            cred = base64.b64encode(b"\0" + login.encode() + b"\0" + PASSWORD.encode())
            code, text = s.docmd("AUTH", "PLAIN " + cred.decode())
            if code != 235:
                raise AssertionError("AUTH %s: %d %s" % (login, code, text.decode()))
        code, text = s.mail(sender)
        if code >= 400:
            return ("mail", "%d %s" % (code, text.decode()))
        code, text = s.rcpt(RCPT)
        if code >= 400:
            return ("rcpt", "%d %s" % (code, text.decode()))
        # The corpus files end lines with LF; Sendmail 8.17 refuses bare LF, as it should.
        code, text = s.data(re.sub(rb"\r?\n", b"\r\n", data))
        return ("data", "%d %s" % (code, text.decode()))
    finally:
        try:
            s.quit()
        except smtplib.SMTPException:
            pass


class Sendmail(unittest.TestCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        cls.mport = postfix.free_port()
        cls.milter = postfix.Milter(MILTER, {
            "milter_listen": "inet:127.0.0.1:%d" % cls.mport,
            "milter_user": "",
            "accounts_file": os.path.join(CORPUS, "accounts"),
        }, name="sm-milter")
        cls.milter.start(wait_port_num=cls.mport)
        cls.sm = sendmail.PrivateSendmail(cls.mport, sasl_users={"alice": PASSWORD}).start()

    @classmethod
    def tearDownClass(cls):
        cls.sm.cleanup()
        rc = cls.milter.stop()
        log = cls.milter.log()
        cls.milter.cleanup()
        if rc not in (0, None):
            raise AssertionError("postern-milter exited with %r:\n%s" % (rc, log))

    def test_corpus(self):
        with open(os.path.join(CORPUS, "expected.txt")) as f:
            rows = [ln.rstrip("\n").split("|", 3) for ln in f
                    if ln.strip() and not ln.startswith("#")]
        for name, sender, account, want in rows:
            with open(os.path.join(CORPUS, name), "rb") as f:
                data = f.read()
            sender = "" if sender == "<>" else sender
            stage, got = submit(self.sm.port, sender, data, login=account or None)
            with self.subTest(row=name):
                if want == "accept":
                    self.assertEqual((stage, got[:3]), ("data", "250"), got)
                elif stage == "mail":
                    # Sendmail names the address before the milter's text at MAIL.
                    code, enh, text = want.split(" ", 2)
                    self.assertEqual(got, "%s %s <%s>... %s" % (code, enh, sender, text))
                else:
                    self.assertEqual((stage, got), ("data", want))
        self.assertGreaterEqual(len(rows), 16)
        self.assertTrue([r for r in rows if r[2]], "no corpus row logs in")

    def test_queue_id_in_verdict(self):
        stage, got = submit(self.sm.port, "alice@example.com", CLEAN)
        self.assertEqual(stage, "data")
        m = re.match(r"250 2\.0\.0 (\S+) Message accepted for delivery$", got)
        self.assertTrue(m, got)
        self.milter.wait_log("id=%s stage=eom from=<alice@example.com> account=- "
                             "verdict=accept" % m.group(1))

    def test_login_reaches_the_milter(self):
        """{auth_authen} from Sendmail's SASL login: the account's senders only."""
        stage, got = submit(self.sm.port, "alice@example.com", CLEAN, login="alice")
        self.assertEqual((stage, got[:3]), ("data", "250"), got)
        qid = got.split()[2]
        self.milter.wait_log("id=%s stage=eom from=<alice@example.com> account=alice "
                             "verdict=accept" % qid)
        self.assertEqual(submit(self.sm.port, "alice@other.example", CLEAN, login="alice"),
                         ("mail", "550 5.7.1 <alice@other.example>... Sender not allowed"))

    def test_zz_milter_down_tempfails(self):
        """Last (zz): postern.mc's F=T, the milter gone: 451 4.3.2 at MAIL, not an accept."""
        self.assertEqual(self.milter.stop(), 0)
        stage, got = submit(self.sm.port, "alice@example.com", CLEAN)
        self.assertEqual((stage, got), ("mail", "451 4.3.2 Please try again later"))
        self.milter.start(wait_port_num=self.mport)
        stage, got = submit(self.sm.port, "alice@example.com", CLEAN)
        self.assertEqual((stage, got[:3]), ("data", "250"), got)


if __name__ == "__main__":
    why = sendmail.usable()
    if why:
        print("SKIP: %s" % why)
        sys.exit(77)
    unittest.main(verbosity=2)
