#!/usr/bin/env python3
"""test_relay_queue.py - postern-relay's queue against a scripted next hop.

Each case puts spool files into new/ the way postern-smtpd does and checks
three things: `postern-queue status ID --json`, what the next hop received,
and the notification (DSN) the sender got.
"""

import email
import json
import os
import re
import signal
import subprocess
import time
import unittest

import relay as R


def dsn_parts(msg):
    """(human text, delivery-status groups as dicts, headers part) of a DSN."""
    m = msg.parsed()
    assert m.get_content_type() == "multipart/report", m.get_content_type()
    assert m.get_param("report-type") == "delivery-status"
    parts = m.get_payload()
    assert [p.get_content_type() for p in parts] == \
        ["text/plain", "message/delivery-status", "text/rfc822-headers"], \
        [p.get_content_type() for p in parts]
    groups = [dict((k, str(v)) for k, v in g.items()) for g in parts[1].get_payload()]
    return parts[0].get_payload(), groups, parts[2].get_payload()


class Base(unittest.TestCase):
    def relay(self, sink, **kw):
        r = R.Relay(sink.port, **kw)
        self.addCleanup(r.stop)
        return r.start()

    def sink(self, **kw):
        s = R.Sink(**kw)
        self.addCleanup(s.close)
        return s


class Delivery(Base):
    def test_delivered_byte_for_byte_with_received(self):
        s = self.sink()
        r = self.relay(s)
        body = R.message(extra=b"caf\xc3\xa9 8-bit line\r\n")
        mid = r.put("alice@example.com", ["bob@example.org", "carol@example.org"], body)
        st = r.wait_state(mid, "delivered")
        self.assertEqual(st["attempts"], 1)
        self.assertEqual(st["sender"], "alice@example.com")
        self.assertEqual([(x["address"], x["state"], x["reply"]) for x in st["recipients"]],
                         [("bob@example.org", "delivered", "250 2.0.0 Ok: queued"),
                          ("carol@example.org", "delivered", "250 2.0.0 Ok: queued")])
        self.assertRegex(st["arrival"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
        got = s.wait_messages(1)
        self.assertEqual(len(got), 1)
        self.assertEqual(got[0].sender, "alice@example.com")
        self.assertEqual(got[0].rcpts, ["bob@example.org", "carol@example.org"])
        # One Received: line on top, then the spooled message byte for byte.
        self.assertTrue(got[0].data.startswith(b"Received: from client.example ([127.0.0.1])\r\n"))
        self.assertIn(b"by relay.postern.test (Postern) with ESMTPSA id " + mid.encode(), got[0].data)
        self.assertNotIn(b"alice\r\n", got[0].data.split(b"\r\nFrom:")[0])   # no account name
        self.assertTrue(got[0].data.endswith(b"\r\n" + body), got[0].data[-200:])
        self.assertEqual(got[0].data.count(b"Received:"), 1)
        self.assertEqual(r.files("new"), [])
        self.assertEqual(r.files("state"), [])
        self.assertEqual(r.files("status"), [mid])
        # The log tells the story: one line per recipient outcome.
        self.assertRegex(r.log_text(), r"id=%s to=<bob@example.org> relay=\[127\.0\.0\.1\]:%d "
                         r'delay=\d+\.\ds attempt=1 status=sent reply="250 2\.0\.0 Ok: queued"' % (mid, s.port))
        rc, out, _ = r.queue("status", "01a250d7-0000-7000-8000-000000000000", "--json", check=False)
        self.assertEqual(rc, 1)

    def test_startup_scan_in_arrival_order(self):
        s = self.sink()
        r = R.Relay(s.port, relay_concurrency="1")
        self.addCleanup(r.stop)
        ids = [r.put("alice@example.com", ["n%d@example.org" % i]) for i in range(5)]
        r.start()
        got = s.wait_messages(5)
        self.assertEqual([g.rcpts[0] for g in got], ["n%d@example.org" % i for i in range(5)])
        for i in ids:
            r.wait_state(i, "delivered")

    def test_4xx_twice_then_250(self):
        s = self.sink(rcpt=lambda a, n: "451 4.3.0 Try again later" if n <= 2 else "250 2.1.5 Ok")
        r = self.relay(s)
        mid = r.put("alice@example.com", ["bob@example.org"])
        st = r.wait_state(mid, "deferred")
        self.assertEqual(st["recipients"][0]["state"], "deferred")
        self.assertEqual(st["recipients"][0]["reply"], "451 4.3.0 Try again later")
        self.assertIsNotNone(st["next_attempt"])
        st = r.wait_state(mid, "delivered", timeout=30)
        self.assertEqual(st["attempts"], 3)
        self.assertEqual(s.rcpt_count["bob@example.org"], 3)
        self.assertEqual(len(s.messages()), 1)
        log = r.log_text()
        self.assertEqual(log.count("id=%s to=<bob@example.org>" % mid), 3)
        self.assertIn('attempt=2 status=deferred reply="451 4.3.0 Try again later"', log)
        self.assertIn("attempt=3 status=sent", log)

    def test_always_4xx_until_lifetime_then_dsn(self):
        s = self.sink(rcpt=lambda a, n: "250 2.1.5 Ok" if a == "alice@example.com"
                      else "450 4.2.0 Mailbox busy")
        r = self.relay(s, relay_max_queue_lifetime="3s")
        mid = r.put("alice@example.com", ["bob@example.org"])
        st = r.wait_state(mid, "failed", timeout=30)
        self.assertGreaterEqual(st["attempts"], 2)
        self.assertEqual(st["recipients"][0]["state"], "failed")
        self.assertEqual(st["recipients"][0]["reply"], "450 4.2.0 Mailbox busy")
        dsn = s.wait_messages(1)[0]
        self.assertEqual(dsn.sender, "")
        self.assertEqual(dsn.rcpts, ["alice@example.com"])
        text, groups, hdrs = dsn_parts(dsn)
        self.assertEqual(groups[0]["Reporting-MTA"], "dns; relay.postern.test")
        self.assertIn("Arrival-Date", groups[0])
        self.assertEqual(groups[1]["Final-Recipient"], "rfc822; bob@example.org")
        self.assertEqual(groups[1]["Action"], "failed")
        self.assertEqual(groups[1]["Status"], "4.2.0")
        self.assertEqual(groups[1]["Diagnostic-Code"], "smtp; 450 4.2.0 Mailbox busy")
        self.assertIn("Subject: test", hdrs)
        self.assertIn("bob@example.org", text)
        st2 = r.wait_state(st["bounce_id"], "delivered")
        self.assertEqual(st2["sender"], "")
        self.assertIn("deferred past relay_max_queue_lifetime", r.log_text())

    def test_5xx_for_one_of_two(self):
        s = self.sink(rcpt=lambda a, n: "550 5.1.1 <bad@example.org>: Recipient address rejected"
                      if a == "bad@example.org" else "250 2.1.5 Ok")
        r = self.relay(s)
        mid = r.put("alice@example.com", ["good@example.org", "bad@example.org"])
        st = r.wait_state(mid, "failed")
        self.assertEqual([(x["address"], x["state"]) for x in st["recipients"]],
                         [("good@example.org", "delivered"), ("bad@example.org", "failed")])
        got = s.wait_messages(2)
        self.assertEqual(got[0].rcpts, ["good@example.org"])
        dsn = got[1]
        self.assertEqual((dsn.sender, dsn.rcpts), ("", ["alice@example.com"]))
        _, groups, _ = dsn_parts(dsn)
        self.assertEqual(len(groups), 2)        # one per message, only the failed recipient
        self.assertEqual(groups[1]["Final-Recipient"], "rfc822; bad@example.org")
        self.assertEqual(groups[1]["Status"], "5.1.1")
        self.assertEqual(groups[1]["Diagnostic-Code"],
                         "smtp; 550 5.1.1 <bad@example.org>: Recipient address rejected")
        time.sleep(0.5)
        self.assertEqual(len(s.messages()), 2)
        self.assertEqual(s.rcpt_count.get("good@example.org"), 1)   # not sent again

    def test_no_dsn_for_null_sender_or_relay_bounce_no(self):
        s = self.sink(rcpt=lambda a, n: "550 5.1.1 no")
        r = self.relay(s)
        a = r.put("", ["x@example.org"])
        st = r.wait_state(a, "failed")
        self.assertNotIn("bounce_id", st)
        r.stop()
        r2 = self.relay(s, relay_bounce="no")
        b = r2.put("alice@example.com", ["y@example.org"])
        self.assertNotIn("bounce_id", r2.wait_state(b, "failed"))
        time.sleep(0.5)
        self.assertEqual(s.messages(), [])
        self.assertEqual(r2.files("new"), [])

    def test_lost_connection_mid_data_defers(self):
        s = self.sink(data=lambda rc, n: None if n == 1 else "250 2.0.0 Ok: queued")
        r = self.relay(s)
        mid = r.put("alice@example.com", ["bob@example.org"])
        st = r.wait_state(mid, "delivered", timeout=30)
        self.assertEqual(st["attempts"], 2)
        self.assertEqual(len(s.messages()), 1)
        self.assertRegex(r.log_text(), r"id=%s to=<bob@example.org> .* attempt=1 status=deferred" % mid)


    def test_lmtp_per_recipient_replies(self):
        s = self.sink(lmtp=True, lmtp_data=lambda a, n:
                      "550 5.1.1 <%s>: unknown user" % a if a.startswith("gone")
                      else "452 4.2.2 Mailbox full" if a.startswith("full") and n == 1
                      else "250 2.0.0 <%s> delivered" % a)
        r = self.relay(s, relay_host="lmtp:inet:127.0.0.1:%d" % s.port)
        mid = r.put("alice@example.com", ["ok@example.org", "gone@example.org", "full@example.org"])
        st = r.wait_state(mid, "failed", timeout=30)
        self.assertEqual([(x["address"], x["state"], x["reply"]) for x in st["recipients"]],
                         [("ok@example.org", "delivered", "250 2.0.0 <ok@example.org> delivered"),
                          ("gone@example.org", "failed", "550 5.1.1 <gone@example.org>: unknown user"),
                          ("full@example.org", "delivered", "250 2.0.0 <full@example.org> delivered")])
        self.assertEqual(st["attempts"], 2)
        got = s.wait_messages(3)
        self.assertEqual([g.rcpts for g in got[:2]], [["ok@example.org"], ["full@example.org"]])
        self.assertEqual(s.lmtp_count["ok@example.org"], 1)     # not sent again
        self.assertEqual(got[2].sender, "")                     # the DSN, for gone@ only
        _, groups, _ = dsn_parts(got[2])
        self.assertEqual([g.get("Final-Recipient") for g in groups[1:]], ["rfc822; gone@example.org"])

    def test_sigterm_finishes_the_delivery_in_flight(self):
        def data(rcpts, n):
            time.sleep(2.0)
            return "250 2.0.0 Ok: queued"
        s = self.sink(data=data)
        r = self.relay(s)
        mid = r.put("alice@example.com", ["bob@example.org"])
        deadline = time.time() + 20 * R.SLOW
        while not s.rcpt_count and time.time() < deadline:     # the delivery has begun
            time.sleep(0.02)
        self.assertEqual(s.messages(), [])
        r.proc.send_signal(signal.SIGTERM)
        self.assertEqual(r.proc.wait(60), 0)
        self.assertIn("no new deliveries; 1 in flight", r.log_text())
        self.assertEqual(len(s.messages()), 1)
        self.assertEqual(r.status(mid)["state"], "delivered")
        self.assertEqual(r.files("new"), [])


class Steering(Base):
    def test_hold_release_flush_delete(self):
        mode = {"reply": "451 4.3.0 Later"}
        s = self.sink(rcpt=lambda a, n: mode["reply"])
        r = self.relay(s, relay_backoff_min="1h", relay_backoff_max="2h")
        a = r.put("alice@example.com", ["a@example.org"])
        b = r.put("alice@example.com", ["b@example.org"])
        c = r.put("alice@example.com", ["c@example.org"])
        for i in (a, b, c):
            r.wait_state(i, "deferred")
        rc, out, _ = r.queue("list")
        self.assertIn(a, out)
        self.assertIn("(451 4.3.0 Later)", out)
        self.assertIn("-- 1 Kbytes in 3 Requests.", out)
        rc, out, _ = r.queue("list", "--json")
        lines = [json.loads(x) for x in out.splitlines()]
        self.assertEqual([x["id"] for x in lines], [a, b, c])
        self.assertEqual({x["state"] for x in lines}, {"deferred"})
        # hold: kept from delivery, even by a flush.
        r.queue("hold", a)
        self.assertEqual(r.status(a)["state"], "held")
        mode["reply"] = "250 2.1.5 Ok"
        r.queue("flush")
        r.wait_state(b, "delivered")
        r.wait_state(c, "delivered")
        time.sleep(0.5)
        self.assertEqual(r.status(a)["state"], "held")
        self.assertEqual(len(s.messages()), 2)
        r.queue("release", a)
        r.wait_state(a, "delivered")
        # delete: removed, no bounce, remembered as deleted.
        mode["reply"] = "451 4.3.0 Later"
        d = r.put("alice@example.com", ["d@example.org"])
        r.wait_state(d, "deferred")
        rc, out, _ = r.queue("delete", d)
        self.assertIn("done", out)
        st = r.wait_state(d, "deleted")
        self.assertFalse(st["queued"])
        self.assertNotIn(d, r.files("new"))
        self.assertEqual(len(s.messages()), 3)
        # One message flushed by id.
        e = r.put("alice@example.com", ["e@example.org"])
        r.wait_state(e, "deferred")
        mode["reply"] = "250 2.1.5 Ok"
        r.queue("flush", e)
        r.wait_state(e, "delivered")
        # Unknown ids: exit 1; usage: exit 2.
        for cmd in ("hold", "release", "delete", "flush", "show", "status"):
            self.assertEqual(r.queue(cmd, "01a250d7-0000-7000-8000-000000000000", check=False)[0], 1)
        self.assertEqual(r.queue("hold", check=False)[0], 2)
        self.assertEqual(r.queue("frobnicate", check=False)[0], 2)
        p = subprocess.run([R.QUEUE_BIN, "-c", "/nonexistent/postern.conf", "list"],
                           capture_output=True, text=True)
        self.assertEqual(p.returncode, 2)

    def test_quarantined_message_is_held(self):
        s = self.sink()
        r = self.relay(s)
        q = r.put("alice@example.com", ["bob@example.org"], quarantine="spam score 12")
        ok = r.put("alice@example.com", ["carol@example.org"])
        r.wait_state(ok, "delivered")
        st = r.wait_state(q, "held")
        self.assertEqual(st["attempts"], 0)
        self.assertIn("id=%s held: quarantined by a milter (spam score 12)" % q, r.log_text())
        r.queue("flush")
        time.sleep(0.5)
        self.assertEqual(len(s.messages()), 1)
        r.queue("release", q)
        r.wait_state(q, "delivered")
        self.assertEqual(s.messages()[1].rcpts, ["bob@example.org"])

    def test_requests_wait_while_relay_is_down(self):
        s = self.sink(rcpt=lambda a, n: "451 4.3.0 Later")
        r = self.relay(s, relay_backoff_min="1h", relay_backoff_max="2h")
        a = r.put("alice@example.com", ["a@example.org"])
        r.wait_state(a, "deferred")
        r.stop()
        rc, out, _ = r.queue("hold", a)
        self.assertIn("not running", out)
        self.assertEqual(len(r.files("ctl")), 1)
        r.start()
        r.wait_state(a, "held")
        self.assertEqual(r.files("ctl"), [])
        # The hold is journalled: it survives a restart.
        r.stop(signal.SIGKILL)
        r.start()
        self.assertEqual(r.status(a)["state"], "held")
        rc, out, _ = r.queue("show", a, "--json")
        ev = json.loads(out)["events"]
        self.assertEqual(ev[0]["type"], "attempt")
        self.assertEqual(ev[1]["reply"], "451 4.3.0 Later")


    def test_status_expires_after_relay_status_lifetime(self):
        s = self.sink()
        r = self.relay(s, relay_status_lifetime="2s")
        mid = r.put("alice@example.com", ["bob@example.org"])
        r.wait_state(mid, "delivered")
        self.assertEqual(r.files("status"), [mid])
        deadline = time.time() + 30 * R.SLOW
        while r.files("status") and time.time() < deadline:
            time.sleep(0.2)
        self.assertEqual(r.files("status"), [])
        self.assertEqual(r.queue("status", mid, "--json", check=False)[0], 1)
        self.assertIn("older than relay_status_lifetime removed", r.log_text())


class Corrupt(Base):
    def test_bad_spool_files_moved_aside(self):
        s = self.sink()
        r = self.relay(s)
        body = R.message()
        bad = {}
        bad["size"] = R.uuid7()
        R.put_spool(r.spool, R.spool_bytes(bad["size"], "a@example.com", ["b@example.org"], body,
                                           size=len(body) + 5), bad["size"])
        bad["truncated"] = R.uuid7()
        R.put_spool(r.spool, R.spool_bytes(bad["truncated"], "a@example.com", ["b@example.org"],
                                           body)[:120], bad["truncated"])
        bad["version"] = R.uuid7()
        R.put_spool(r.spool, R.spool_bytes(bad["version"], "a@example.com", ["b@example.org"], body,
                                           version=2), bad["version"])
        good = r.put("alice@example.com", ["bob@example.org"])
        r.wait_state(good, "delivered")
        for why, mid in bad.items():
            r.wait_log("id=%s: corrupt spool file" % mid)
        self.assertEqual(sorted(r.files("corrupt")), sorted(bad.values()))
        self.assertEqual(r.files("new"), [])
        log = r.log_text()
        self.assertIn("id=%s: corrupt spool file (size %d but %d message bytes)"
                      % (bad["size"], len(body) + 5, len(body)), log)
        self.assertIn("id=%s: corrupt spool file (truncated header block)" % bad["truncated"], log)
        self.assertIn("id=%s: corrupt spool file (unknown version line)" % bad["version"], log)
        self.assertEqual(len(s.messages()), 1)
        # What became of it: postern-queue says corrupt, and why, as the relay read it.
        rc, out, _ = r.queue("status", bad["truncated"])
        self.assertEqual(rc, 0)
        self.assertEqual(out, "%s corrupt (truncated header block): set aside in %s/corrupt/%s, "
                              "never delivered\n" % (bad["truncated"], r.spool, bad["truncated"]))
        rc, out, _ = r.queue("show", bad["size"], "--json")
        got = json.loads(out)
        path = "%s/corrupt/%s" % (r.spool, bad["size"])
        self.assertRegex(got.pop("arrival"), r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        self.assertEqual(got, {
            "id": bad["size"], "state": "failed", "corrupt": True,
            "reason": "size %d but %d message bytes" % (len(body) + 5, len(body)),
            "file": path, "sender": "", "size": os.path.getsize(path), "attempts": 0,
            "queued": False, "next_attempt": None, "last_reply": "", "recipients": []})
        rc, _, err = r.queue("status", R.uuid7(), check=False)
        self.assertEqual(rc, 1)
        self.assertIn("no such message", err)


class Recovery(Base):
    def test_leftovers_of_a_crash_after_the_status_was_written(self):
        """Killed after status/ID was written but before new/ID (or state/ID) went: a restart
        removes them and does not send the message again."""
        s = self.sink()
        r = self.relay(s)
        body = R.message()
        mid = r.put("alice@example.com", ["bob@example.org"], body)
        r.wait_state(mid, "delivered")
        r.stop()
        import shutil
        R.put_spool(r.spool, R.spool_bytes(mid, "alice@example.com", ["bob@example.org"], body), mid)
        other = R.uuid7()
        shutil.copy(os.path.join(r.spool, "status", mid), os.path.join(r.spool, "state", mid))
        shutil.copy(os.path.join(r.spool, "status", mid), os.path.join(r.spool, "status", other))
        shutil.copy(os.path.join(r.spool, "status", mid), os.path.join(r.spool, "state", other))
        r.start()
        r.wait_log("already delivered or failed (status/%s): removing new/%s" % (mid, mid))
        r.wait_log("id=%s: state/%s removed (the message left: status/%s)" % (other, other, other))
        self.assertEqual(r.files("new"), [])
        self.assertEqual(r.files("state"), [])
        time.sleep(0.5)
        self.assertEqual(len(s.messages()), 1)


class Daemon(Base):
    def test_empty_relay_host_exits_at_once(self):
        r = R.Relay(1, relay_host="")
        p = subprocess.run([R.RELAY_BIN, "-c", r.conf_path], capture_output=True, text=True,
                           timeout=30)
        self.assertEqual(p.returncode, 0)
        self.assertIn("relay_host is empty", p.stderr)

    def test_check_and_print(self):
        s = self.sink()
        r = R.Relay(s.port)
        p = subprocess.run([R.RELAY_BIN, "-c", r.conf_path, "-t"], capture_output=True, text=True,
                           timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        s.close()
        p = subprocess.run([R.RELAY_BIN, "-c", r.conf_path, "-t"], capture_output=True, text=True,
                           timeout=60)
        self.assertEqual(p.returncode, 1)
        self.assertIn("next hop not reachable", p.stderr)
        p = subprocess.run([R.RELAY_BIN, "-c", r.conf_path, "-n"], capture_output=True, text=True)
        self.assertIn("relay_backoff_min = 1s", p.stdout)
        with open(r.conf_path, "a") as f:
            f.write("relay_bogus = 1\n")
        p = subprocess.run([R.RELAY_BIN, "-c", r.conf_path], capture_output=True, text=True)
        self.assertEqual(p.returncode, 1)
        self.assertRegex(p.stderr, r"postern.conf:\d+: unknown key \"relay_bogus\"")

    def test_second_relay_refused_and_sighup(self):
        s = self.sink()
        r = self.relay(s)
        p = subprocess.run([R.RELAY_BIN, "-c", r.conf_path], capture_output=True, text=True,
                           timeout=30)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("another postern-relay runs on this spool", p.stderr)
        with open(r.conf_path, "a") as f:
            f.write("relay_backoff_max = 7s\n")
        r.proc.send_signal(signal.SIGHUP)
        r.wait_log("reloaded: backoff 1s..7s")
        self.assertEqual(r.stop(), 0)

    def test_sighup_moves_to_a_new_next_hop(self):
        from relay_hop import ScriptedHop
        from test_relay_metrics import scrape
        # One connection: the old hop sits on its reply to the first message's end of data
        # while the second waits in it for a connection; then the SIGHUP comes.
        with ScriptedHop(data_delay=6 * R.SLOW) as old, \
                ScriptedHop(data_delay=2 * R.SLOW) as new:
            mport = R.harness.free_port()
            r = self.relay(old, relay_concurrency="1",
                           relay_metrics_listen="127.0.0.1:%d" % mport)
            first = r.put("alice@example.com", ["bob@example.org"])
            second = r.put("alice@example.com", ["dave@example.org"])
            deadline = time.time() + 20 * R.SLOW
            while time.time() < deadline and not (
                    old.messages() and
                    scrape(mport)[("postern_relay_deliveries_in_flight", "")] == 2):
                time.sleep(0.05)
            self.assertEqual(len(old.messages()), 1, "never reached the old hop")
            self.assertEqual(scrape(mport)[("postern_relay_deliveries_in_flight", "")], 2)
            with open(r.conf_path, "a") as f:
                f.write("relay_host = [127.0.0.1]:%d\nrelay_concurrency = 4\n" % new.port)
            r.proc.send_signal(signal.SIGHUP)
            r.wait_log("next hop [127.0.0.1]:%d, concurrency 4; deliveries in flight end on "
                       "the previous one" % new.port)
            # The one waiting for a connection goes to the new hop, not to the old one.
            r.wait_state(second, "delivered", timeout=30)
            self.assertIn("RCPT TO:<dave@example.org>", new.commands())
            # The delivery in flight was not cut: it ends on the old hop, once, delivered.
            r.wait_state(first, "delivered", timeout=30)
            self.assertEqual(len(old.messages()), 1)
            self.assertNotIn("RCPT TO:<dave@example.org>", old.commands())
            self.assertNotIn("deferred", r.queue("status", first)[1])
            # The old hop's connection is closed once its delivery ended, not kept idle.
            deadline = time.time() + 10 * R.SLOW
            while "QUIT" not in old.commands() and time.time() < deadline:
                time.sleep(0.05)
            self.assertIn("QUIT", old.commands())
            # The new relay_concurrency holds for the queue too: 8 messages, 4 at once.
            more = [r.put("alice@example.com", ["m%d@example.org" % i]) for i in range(8)]
            for mid in more:
                r.wait_state(mid, "delivered", timeout=60)
            self.assertGreaterEqual(new.max_parallel, 3)
            self.assertLessEqual(new.max_parallel, 4)
            self.assertEqual(r.stop(), 0)

    def test_sighup_with_a_bad_next_hop_keeps_the_running_one(self):
        s = self.sink()
        r = self.relay(s)
        with open(r.conf_path, "a") as f:
            f.write("relay_tls = verify\nrelay_tls_ca_file = %s/no-such-ca.pem\n" % r.dir)
        r.proc.send_signal(signal.SIGHUP)
        r.wait_log("reload failed, keeping the running settings")
        self.assertIn("no-such-ca.pem", r.log_text())
        r.wait_state(r.put("alice@example.com", ["bob@example.org"]), "delivered")
        self.assertEqual(len(s.messages()), 1)
        self.assertEqual(r.stop(), 0)


if __name__ == "__main__":
    R.main()
