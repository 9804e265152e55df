#!/usr/bin/env python3
"""test_relay_deliver.py - the relay's delivery client (relay/deliver.h) against a scripted SMTP/LMTP next hop.

Each case runs tests/relay/relay_deliver_tool once and checks every
recipient's outcome and stored reply, and what the next hop received.
"""

import os
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import relay_hop  # noqa: E402
from relay_hop import ScriptedHop, deliver, write_conf  # noqa: E402
import smtpd  # noqa: E402  (make_cert)

SENDER = "<alice@example.com>"
R1, R2 = "<bob@example.org>", "<carol@example.org>"
MESSAGE = (b"From: alice@example.com\r\nTo: bob@example.org\r\nSubject: relay\r\n\r\n"
           b"first line\r\n.a line starting with a dot\r\n.\r\n..\r\nlast line\r\n")
RECEIVED = (b"Received: from client.example (client.example [127.0.0.1])\r\n"
            b"\tby relay.postern.test (Postern) with ESMTPSA id 1; Mon, 7 Dec 2026 14:00:00 +0000\r\n")


class RelayDeliverTest(unittest.TestCase):
    maxDiff = None

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="postern-relay-")
        os.chmod(self.dir, 0o755)

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def run_tool(self, hop, rcpts=(R1, R2), message=MESSAGE, keys=None, **kw):
        keys = dict(keys or {})
        keys.setdefault("relay_tls", "none")
        conf = write_conf(self.dir, hop.relay_host, **keys)
        res, lines, err = deliver(conf, message, SENDER, rcpts, directory=self.dir, **kw)
        self.stderr, self.lines = err, lines
        return res

    def assertOutcome(self, res, job, rcpt, state, reply):
        self.assertEqual(res[(job, rcpt)], (state, reply), self.stderr)

    # --- outcomes -------------------------------------------------------
    def test_all_accepted_byte_identical(self):
        with ScriptedHop() as hop:
            res = self.run_tool(hop, received=RECEIVED)
        self.assertOutcome(res, "1.1", R1, "delivered", "250 2.0.0 Ok: queued as X")
        self.assertOutcome(res, "1.1", R2, "delivered", "250 2.0.0 Ok: queued as X")
        self.assertEqual(hop.messages(), [RECEIVED + MESSAGE])
        mail = [c for c in hop.commands() if c.startswith("MAIL")]
        self.assertEqual(mail, ["MAIL FROM:%s SIZE=%d" % (SENDER, len(RECEIVED) + len(MESSAGE))])
        self.assertIn("EHLO relay.postern.test", hop.commands())

    def test_message_without_final_crlf_gets_one(self):
        with ScriptedHop() as hop:
            res = self.run_tool(hop, message=b"Subject: x\r\n\r\nno newline at the end")
        self.assertOutcome(res, "1.1", R1, "delivered", "250 2.0.0 Ok: queued as X")
        self.assertEqual(hop.messages(), [b"Subject: x\r\n\r\nno newline at the end\r\n"])

    def test_one_of_two_refused_5xx(self):
        bad = "550 5.1.1 <carol@example.org>: Recipient address rejected: User unknown"
        with ScriptedHop(rcpt_reply=lambda a: bad if a == R2 else "250 2.1.5 Ok") as hop:
            res = self.run_tool(hop)
        self.assertOutcome(res, "1.1", R1, "delivered", "250 2.0.0 Ok: queued as X")
        self.assertOutcome(res, "1.1", R2, "failed", bad)
        self.assertEqual(len(hop.messages()), 1)

    def test_4xx_at_rcpt_defers_that_one(self):
        tmp = "450 4.2.0 <bob@example.org>: Recipient address rejected: Greylisted"
        with ScriptedHop(rcpt_reply=lambda a: tmp if a == R1 else "250 2.1.5 Ok") as hop:
            res = self.run_tool(hop)
        self.assertOutcome(res, "1.1", R1, "deferred", tmp)
        self.assertOutcome(res, "1.1", R2, "delivered", "250 2.0.0 Ok: queued as X")

    def test_all_refused_no_data(self):
        with ScriptedHop(rcpt_reply=lambda a: "550 5.1.1 unknown") as hop:
            res = self.run_tool(hop)
        self.assertOutcome(res, "1.1", R1, "failed", "550 5.1.1 unknown")
        self.assertOutcome(res, "1.1", R2, "failed", "550 5.1.1 unknown")
        self.assertEqual(hop.messages(), [])    # pipelined DATA got 554, no message body went out

    def test_all_refused_no_data_without_pipelining(self):
        with ScriptedHop(keywords=[], rcpt_reply=lambda a: "550 5.1.1 unknown") as hop:
            res = self.run_tool(hop)
        self.assertOutcome(res, "1.1", R1, "failed", "550 5.1.1 unknown")
        self.assertNotIn("DATA", hop.commands())

    def test_mail_refused(self):
        with ScriptedHop(mail_reply="553 5.7.1 <alice@example.com>: Sender address rejected") as hop:
            res = self.run_tool(hop)
        for r in (R1, R2):
            self.assertOutcome(res, "1.1", r, "failed",
                               "553 5.7.1 <alice@example.com>: Sender address rejected")

    def test_4xx_at_end_of_data(self):
        with ScriptedHop(data_reply=lambda a: "451 4.3.0 Error: queue file write error") as hop:
            res = self.run_tool(hop)
        for r in (R1, R2):
            self.assertOutcome(res, "1.1", r, "deferred", "451 4.3.0 Error: queue file write error")

    def test_5xx_at_end_of_data(self):
        with ScriptedHop(data_reply=lambda a: "554 5.7.1 Message rejected as spam") as hop:
            res = self.run_tool(hop)
        for r in (R1, R2):
            self.assertOutcome(res, "1.1", r, "failed", "554 5.7.1 Message rejected as spam")

    def test_dropped_after_the_dot(self):
        with ScriptedHop(drop_in_data="end") as hop:
            res = self.run_tool(hop)
        for r in (R1, R2):
            self.assertOutcome(res, "1.1", r, "deferred",
                               "4.4.2 lost connection with %s while sending end of data" % hop.desc)

    def test_dropped_mid_data(self):
        big = b"Subject: big\r\n\r\n" + b"x" * 998 + b"\r\n"
        big = big * 2000        # 2 MB: far more than the socket buffers hold
        with ScriptedHop(drop_in_data="start") as hop:
            res = self.run_tool(hop, message=big)
        for r in (R1, R2):
            state, reply = res[("1.1", r)]
            self.assertEqual(state, "deferred")
            self.assertRegex(reply, r"^4\.4\.2 lost connection with \[127\.0\.0\.1\]:\d+ while "
                                    r"sending (message body|end of data)$")

    def test_refused_mid_data(self):
        big = (b"Subject: big\r\n\r\n" + b"x" * 998 + b"\r\n") * 2000
        with ScriptedHop(drop_in_data="reject") as hop:
            res = self.run_tool(hop, message=big)
        for r in (R1, R2):
            self.assertOutcome(res, "1.1", r, "failed", "552 5.3.4 Message size exceeds fixed limit")

    # --- extensions -----------------------------------------------------
    def test_pipelining_one_write(self):
        with ScriptedHop(keywords=["PIPELINING"]) as hop:
            res = self.run_tool(hop)
        self.assertOutcome(res, "1.1", R1, "delivered", "250 2.0.0 Ok: queued as X")
        c = hop.conns[0]
        batch = {b for line, b, _ in c.commands if line.startswith("MAIL")}
        group = [line for line, b, _ in c.commands if b in batch]
        self.assertEqual(group, ["MAIL FROM:%s" % SENDER, "RCPT TO:%s" % R1, "RCPT TO:%s" % R2,
                                 "DATA"])

    def test_no_pipelining_one_command_at_a_time(self):
        with ScriptedHop(keywords=[]) as hop:
            res = self.run_tool(hop)
        self.assertOutcome(res, "1.1", R2, "delivered", "250 2.0.0 Ok: queued as X")
        c = hop.conns[0]
        batches = [b for _, b, _ in c.commands]
        self.assertEqual(len(batches), len(set(batches)), c.commands)
        self.assertEqual([l for l, _, _ in c.commands][1:5],
                         ["MAIL FROM:%s" % SENDER, "RCPT TO:%s" % R1, "RCPT TO:%s" % R2, "DATA"])

    def test_size_too_small(self):
        with ScriptedHop(keywords=["SIZE 100"]) as hop:
            res = self.run_tool(hop)
        reason = "5.3.4 message size %d exceeds the size limit 100 of %s" % (len(MESSAGE), hop.desc)
        self.assertOutcome(res, "1.1", R1, "failed", reason)
        self.assertOutcome(res, "1.1", R2, "failed", reason)
        self.assertFalse([c for c in hop.commands() if c.startswith("MAIL")])

    def test_8bit_message_without_8bitmime(self):
        with ScriptedHop(keywords=["PIPELINING"]) as hop:
            res = self.run_tool(hop, eight=True)
        reason = ("5.6.3 message is 8-bit (BODY=8BITMIME) but %s does not offer 8BITMIME"
                  % hop.desc)
        self.assertOutcome(res, "1.1", R1, "failed", reason)
        self.assertEqual(hop.messages(), [])

    def test_8bit_message_with_8bitmime(self):
        body = "Subject: caf\u00e9\r\n\r\nd\u00e9j\u00e0 vu\r\n".encode()
        with ScriptedHop(keywords=["8BITMIME"]) as hop:
            res = self.run_tool(hop, eight=True, message=body)
        self.assertOutcome(res, "1.1", R1, "delivered", "250 2.0.0 Ok: queued as X")
        self.assertIn("MAIL FROM:%s BODY=8BITMIME" % SENDER, hop.commands())
        self.assertEqual(hop.messages(), [body])

    def test_smtputf8_needed(self):
        with ScriptedHop(keywords=["8BITMIME"]) as hop:
            res = self.run_tool(hop, utf8=True)
        self.assertOutcome(res, "1.1", R1, "failed",
                           "5.6.7 message needs SMTPUTF8 but %s does not offer SMTPUTF8" % hop.desc)

    def test_helo_fallback(self):
        with ScriptedHop(ehlo_reply="502 5.5.2 Error: command not recognized") as hop:
            res = self.run_tool(hop)
        self.assertOutcome(res, "1.1", R1, "delivered", "250 2.0.0 Ok: queued as X")
        self.assertIn("HELO relay.postern.test", hop.commands())
        self.assertIn("MAIL FROM:%s" % SENDER, hop.commands())     # no ESMTP parameters

    def test_greeting_refused(self):
        with ScriptedHop(greeting="554 5.3.2 hop.test busy") as hop:
            res = self.run_tool(hop)
        self.assertOutcome(res, "1.1", R1, "deferred", "554 5.3.2 hop.test busy")

    def test_connect_refused(self):
        with ScriptedHop() as hop:
            port, desc = hop.port, hop.desc
        conf = write_conf(self.dir, "[127.0.0.1]:%d" % port, relay_tls="none")
        res, _, err = deliver(conf, MESSAGE, SENDER, [R1], directory=self.dir)
        self.assertEqual(res[("1.1", R1)],
                         ("deferred", "4.4.1 connect to %s: Connection refused" % desc), err)

    def test_host_name_looked_up(self):
        # "localhost" goes through the lookup thread; every address it has is tried in turn.
        with ScriptedHop() as hop:
            conf = write_conf(self.dir, "[localhost]:%d" % hop.port, relay_tls="none")
            res, lines, err = deliver(conf, MESSAGE, SENDER, [R1], directory=self.dir)
        self.assertEqual(res[("1.1", R1)], ("delivered", "250 2.0.0 Ok: queued as X"), err)
        self.assertIn("hop [localhost]:%d" % hop.port, lines)

    def test_host_name_unknown(self):
        conf = write_conf(self.dir, "[no-such-host.invalid]:25", relay_tls="none")
        res, _, err = deliver(conf, MESSAGE, SENDER, [R1], directory=self.dir, timeout_cap=10)
        state, reply = res[("1.1", R1)]
        self.assertEqual(state, "deferred", err)
        # NXDOMAIN, or no resolver reachable from here: either way the lookup's own words.
        self.assertRegex(reply, r"^4\.4\.1 connect to \[no-such-host\.invalid\]:25: "
                                r"(Name or service not known|Temporary failure in name resolution|"
                                r"host name lookup timed out|No address associated with hostname)$")

    # --- TLS and AUTH ----------------------------------------------------
    def tls_pair(self):
        return smtpd.make_cert(self.dir, cn="hop.test")

    def test_encrypt_not_offered(self):
        with ScriptedHop() as hop:
            res = self.run_tool(hop, keys={"relay_tls": "encrypt"})
        self.assertOutcome(res, "1.1", R1, "deferred",
                           "4.7.4 TLS is required, but was not offered by %s" % hop.desc)
        self.assertFalse([c for c in hop.commands() if c.startswith("MAIL")])

    def test_may_uses_starttls(self):
        with ScriptedHop(tls=self.tls_pair()) as hop:
            res = self.run_tool(hop, keys={"relay_tls": "may"})
        self.assertOutcome(res, "1.1", R1, "delivered", "250 2.0.0 Ok: queued as X")
        c = hop.conns[0]
        self.assertEqual([(l, t) for l, _, t in c.commands if l.startswith(("MAIL", "EHLO"))],
                         [("EHLO relay.postern.test", False), ("EHLO relay.postern.test", True),
                          ("MAIL FROM:%s SIZE=%d" % (SENDER, len(MESSAGE)), True)])
        self.assertEqual(hop.messages(), [MESSAGE])

    def test_dropped_mid_data_over_tls(self):
        # The same over TLS: the error comes from GnuTLS, the outcome is the same.
        big = (b"Subject: big\r\n\r\n" + b"x" * 998 + b"\r\n") * 2000
        with ScriptedHop(tls=self.tls_pair(), drop_in_data="start") as hop:
            res = self.run_tool(hop, message=big, keys={"relay_tls": "encrypt"})
        for r in (R1, R2):
            state, reply = res[("1.1", r)]
            self.assertEqual(state, "deferred")
            self.assertRegex(reply, r"^4\.4\.2 lost connection with \[127\.0\.0\.1\]:\d+ while "
                                    r"sending (message body|end of data)$")

    def test_auth_never_in_clear(self):
        auth = os.path.join(self.dir, "auth")
        with open(auth, "w") as f:
            f.write("relayuser s3cret pass\n")
        with ScriptedHop(auth_users={"relayuser": "s3cret pass"}) as hop:
            res = self.run_tool(hop, keys={"relay_tls": "may", "relay_auth_file": auth})
        self.assertOutcome(res, "1.1", R1, "deferred",
                           "4.7.0 relay_auth_file is set but TLS is not up with %s: "
                           "credentials are never sent in clear" % hop.desc)
        self.assertEqual([c for c in hop.commands() if c.startswith("AUTH")], [])

    def test_auth_over_tls(self):
        auth = os.path.join(self.dir, "auth")
        with open(auth, "w") as f:
            f.write("# the next hop's account\nrelayuser s3cret pass\n")
        with ScriptedHop(tls=self.tls_pair(), auth_users={"relayuser": "s3cret pass"}) as hop:
            res = self.run_tool(hop, keys={"relay_tls": "encrypt", "relay_auth_file": auth})
        self.assertOutcome(res, "1.1", R1, "delivered", "250 2.0.0 Ok: queued as X")
        self.assertEqual(hop.conns[0].auth, [("relayuser", "s3cret pass", True)])

    def test_auth_refused(self):
        auth = os.path.join(self.dir, "auth")
        with open(auth, "w") as f:
            f.write("relayuser wrong\n")
        with ScriptedHop(tls=self.tls_pair(), auth_users={"relayuser": "s3cret"}) as hop:
            res = self.run_tool(hop, keys={"relay_tls": "encrypt", "relay_auth_file": auth})
        self.assertOutcome(res, "1.1", R1, "deferred", "535 5.7.8 Authentication credentials invalid")
        self.assertFalse([c for c in hop.commands() if c.startswith("MAIL")])

    def test_auth_login_when_plain_is_not_offered(self):
        auth = os.path.join(self.dir, "auth")
        with open(auth, "w") as f:
            f.write("relayuser s3cret\n")
        with ScriptedHop(tls=self.tls_pair(), auth_users={"relayuser": "s3cret"},
                         auth_mechs="CRAM-MD5 LOGIN") as hop:
            res = self.run_tool(hop, keys={"relay_tls": "encrypt", "relay_auth_file": auth})
        self.assertOutcome(res, "1.1", R1, "delivered", "250 2.0.0 Ok: queued as X")
        self.assertIn("AUTH LOGIN", hop.commands())
        self.assertEqual(hop.conns[0].auth, [("relayuser", "s3cret", True)])

    def test_auth_without_a_known_mechanism(self):
        auth = os.path.join(self.dir, "auth")
        with open(auth, "w") as f:
            f.write("relayuser s3cret\n")
        with ScriptedHop(tls=self.tls_pair(), auth_users={"relayuser": "s3cret"},
                         auth_mechs="CRAM-MD5") as hop:
            res = self.run_tool(hop, keys={"relay_tls": "encrypt", "relay_auth_file": auth})
        self.assertOutcome(res, "1.1", R1, "deferred", "4.7.0 relay_auth_file is set but %s "
                           "offers no AUTH PLAIN or LOGIN" % hop.desc)

    def test_starttls_refused_may_goes_on_in_clear(self):
        with ScriptedHop(tls=self.tls_pair(), starttls_reply="454 4.7.0 TLS not available") as hop:
            res = self.run_tool(hop, keys={"relay_tls": "may"})
        self.assertOutcome(res, "1.1", R1, "delivered", "250 2.0.0 Ok: queued as X")
        self.assertFalse(any(t for _, _, t in hop.conns[0].commands))

    def test_starttls_refused_encrypt_defers(self):
        with ScriptedHop(tls=self.tls_pair(), starttls_reply="454 4.7.0 TLS not available") as hop:
            res = self.run_tool(hop, keys={"relay_tls": "encrypt"})
        self.assertOutcome(res, "1.1", R1, "deferred", "454 4.7.0 TLS not available")
        self.assertFalse([c for c in hop.commands() if c.startswith("MAIL")])

    # --- replies ------------------------------------------------------------
    def test_multi_line_reply_first_line_kept(self):
        with ScriptedHop(rcpt_reply=lambda a: "550-5.1.1 %s unknown here\r\n550 5.1.1 try elsewhere"
                         % a) as hop:
            res = self.run_tool(hop)
        self.assertOutcome(res, "1.1", R1, "failed", "550 5.1.1 <bob@example.org> unknown here")

    def test_garbled_reply(self):
        with ScriptedHop(rcpt_reply=lambda a: "OK then") as hop:
            res = self.run_tool(hop)
        for r in (R1, R2):
            self.assertOutcome(res, "1.1", r, "deferred",
                               "4.5.0 protocol error from %s while sending RCPT TO: "
                               "malformed reply line" % hop.desc)

    # --- LMTP -------------------------------------------------------------
    def test_lmtp_per_recipient_replies(self):
        rcpts = ["<r1@example.org>", "<r2@example.org>", "<gone@example.org>", "<r3@example.org>"]
        data = {"<r1@example.org>": "250 2.0.0 <r1@example.org> Saved",
                "<r2@example.org>": "452 4.2.2 <r2@example.org> Mailbox full",
                "<r3@example.org>": "550 5.2.1 <r3@example.org> Mailbox disabled"}
        sock = os.path.join(self.dir, "lmtp")
        with ScriptedHop(lmtp=True, unix_path=sock, keywords=["PIPELINING", "8BITMIME"],
                         rcpt_reply=lambda a: "550 5.1.1 %s User doesn't exist" % a
                         if a == "<gone@example.org>" else "250 2.1.5 OK",
                         data_reply=lambda a: data[a]) as hop:
            res = self.run_tool(hop, rcpts=rcpts, keys={"relay_tls": "may"})
        self.assertOutcome(res, "1.1", rcpts[0], "delivered", data[rcpts[0]])
        self.assertOutcome(res, "1.1", rcpts[1], "deferred", data[rcpts[1]])
        self.assertOutcome(res, "1.1", rcpts[2], "failed",
                           "550 5.1.1 <gone@example.org> User doesn't exist")
        self.assertOutcome(res, "1.1", rcpts[3], "failed", data[rcpts[3]])
        self.assertIn("LHLO relay.postern.test", hop.commands())
        self.assertEqual(hop.messages(), [MESSAGE])

    def test_lmtp_inet(self):
        with ScriptedHop(lmtp=True, keywords=["PIPELINING"]) as hop:
            res = self.run_tool(hop)
        self.assertOutcome(res, "1.1", R1, "delivered", "250 2.0.0 Ok: queued as X")
        self.assertOutcome(res, "1.1", R2, "delivered", "250 2.0.0 Ok: queued as X")
        self.assertTrue(any(l.startswith("hop lmtp:inet:[127.0.0.1]:") for l in self.lines))

    # --- the pool -----------------------------------------------------------
    def test_connection_reused_with_rset(self):
        with ScriptedHop() as hop:
            res = self.run_tool(hop, rounds=3)
        for job in ("1.1", "2.1", "3.1"):
            self.assertOutcome(res, job, R1, "delivered", "250 2.0.0 Ok: queued as X")
        self.assertEqual(len(hop.conns), 1)
        cmds = [c for c in hop.commands() if c.split(" ")[0] in ("MAIL", "RSET", "EHLO")]
        self.assertEqual([c.split(" ")[0] for c in cmds],
                         ["EHLO", "MAIL", "RSET", "MAIL", "RSET", "MAIL"])
        self.assertEqual(len(hop.messages()), 3)
        self.assertIn("active 1", self.lines)      # relay_hop_active(): the kept connection
        self.assertEqual(hop.commands()[-1], "QUIT")    # relay_hop_free() ends it politely

    def test_kept_connection_closed_meanwhile(self):
        # The hop hangs up after each message: the next one needs a new connection,
        # whether the relay notices the close while idle or only when its RSET fails.
        with ScriptedHop(close_after_message=True) as hop:
            res = self.run_tool(hop, rounds=2)
        self.assertOutcome(res, "1.1", R1, "delivered", "250 2.0.0 Ok: queued as X")
        self.assertOutcome(res, "2.1", R1, "delivered", "250 2.0.0 Ok: queued as X")
        self.assertEqual(len(hop.conns), 2)
        self.assertEqual(len(hop.messages()), 2)

    def test_timeout_at_end_of_data(self):
        # Every stage's timeout capped at 3 s; the hop answers the end of data after 120 s.
        with ScriptedHop(data_delay=120) as hop:
            res = self.run_tool(hop, timeout_cap=3)
        for r in (R1, R2):
            self.assertOutcome(res, "1.1", r, "deferred",
                               "4.4.2 conversation with %s timed out while sending end of data"
                               % hop.desc)

    def test_shutdown_with_a_job_in_flight(self):
        # relay_hop_free() after 2 s, whatever stage the job reached: the hop never answers in time.
        with ScriptedHop(data_delay=120) as hop:
            res = self.run_tool(hop, kill_ms=2000)
        for r in (R1, R2):
            self.assertOutcome(res, "1.1", r, "deferred",
                               "4.3.2 delivery stopped: the relay is shutting down")

    def test_concurrency_limit(self):
        with ScriptedHop() as hop:
            res = self.run_tool(hop, parallel=6, keys={"relay_concurrency": "2"})
        for i in range(1, 7):
            self.assertOutcome(res, "1.%d" % i, R1, "delivered", "250 2.0.0 Ok: queued as X")
        self.assertLessEqual(hop.max_parallel, 2)
        self.assertLessEqual(len(hop.conns), 2)
        self.assertEqual(len(hop.messages()), 6)


if __name__ == "__main__":
    relay_hop.main()
