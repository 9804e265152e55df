#!/usr/bin/env python3
"""test_relay_kill.py - kill -9 at any moment loses nothing.

postern-smtpd takes 200 messages in a stream (smtplib) into the spool
that postern-relay hands on to a scripted next hop, while the relay is
killed with SIGKILL every 0.3 to 0.8 s and started again. At the end:
every message reached the next hop, none is lost, every one is
`delivered` for postern-queue, and the duplicates are no more than the
kills (SMTP's own window: the next hop's 250 before the relay's record).
"""

import random
import re
import smtplib
import threading
import time
import unittest

import relay as R
from smtpd import Smtpd, QUEUED_RE

N = 200


class KillNine(unittest.TestCase):
    def test_kill9_stream(self):
        self.stream(R.Sink(), ["b@example.org"], 1)

    def test_kill9_stream_with_deferrals(self):
        """Every other attempt for c@ is deferred: journals are written while the kills fall."""
        self.stream(R.Sink(rcpt=lambda a, n: "451 4.3.0 Later" if a == "c@example.org" and n % 2
                           else "250 2.1.5 Ok"), ["b@example.org", "c@example.org"], 8)

    def stream(self, sink, rcpts, dups_per_kill):
        """dups_per_kill: a kill can catch each delivery in flight (at most 2 per connection,
        relay_concurrency 4) between the next hop's 250 and the record; the plain stream is
        held to the issue's bound, one per kill."""
        self.addCleanup(sink.close)
        smtpd = Smtpd(smtpd_hostname="smtpd.postern.test")
        smtpd.start()
        self.addCleanup(smtpd.stop)
        relay = R.Relay(sink.port, spool=smtpd.spool)
        self.addCleanup(relay.stop)
        relay.start()

        ids, errors = [], []

        def submit():
            try:
                c = smtplib.SMTP("127.0.0.1", smtpd.port, timeout=30)
                c.ehlo("client.example")
                for i in range(N):
                    msg = ("From: a@example.com\r\nTo: b@example.org\r\nSubject: seq %d\r\n\r\n"
                           "body %d\r\n" % (i, i)).encode()
                    c.mail("a@example.com")
                    for rc in rcpts:
                        c.rcpt(rc)
                    code, text = c.data(msg)
                    m = QUEUED_RE.match("%d %s" % (code, text.decode()))
                    if m is None:
                        errors.append("%d %s" % (code, text))
                        return
                    ids.append(m.group(1))
                    time.sleep(random.uniform(0.01, 0.05))
                c.quit()
            except Exception as e:      # reported by the main thread
                errors.append(repr(e))

        t = threading.Thread(target=submit)
        t.start()
        kills = 0
        while t.is_alive() or kills < 5:
            time.sleep(random.uniform(0.3, 0.8))
            relay.kill9()
            kills += 1
            relay.start()
        t.join()
        self.assertEqual(errors, [])
        queued = ids
        self.assertEqual(len(set(queued)), N)

        deadline = time.time() + 120 * R.SLOW
        while time.time() < deadline:
            # The relay removes new/<id>, then state/<id>: wait for both.
            if relay.files("new") == [] and \
                    [f for f in relay.files("state") if not f.startswith(".")] == []:
                break
            time.sleep(0.2)
        # What the next hop accepted, per recipient: (seq, recipient) pairs.
        got = [(int(re.search(rb"Subject: seq (\d+)", m.data).group(1)), a)
               for m in sink.messages() for a in m.rcpts]
        missing = sorted(set((i, a) for i in range(N) for a in rcpts) - set(got))
        self.assertEqual(missing, [], "lost after %d kills" % kills)
        dups = len(got) - len(set(got))
        print("%d kills, %d deliveries at the next hop, %d duplicate(s)" % (kills, len(got), dups))
        self.assertLessEqual(dups, kills * dups_per_kill)
        self.assertEqual(relay.files("new"), [])
        self.assertEqual([f for f in relay.files("state") if not f.startswith(".")], [])
        for mid in queued:
            self.assertEqual(relay.status(mid)["state"], "delivered", mid)
        # Each delivered message's status is whole: one attempt record at least, one fate.
        self.assertEqual(sorted(relay.files("status")), sorted(queued))


if __name__ == "__main__":
    R.main()
