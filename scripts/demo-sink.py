#!/usr/bin/env python3
"""demo-sink.py - the Quick start's next hop: a small SMTP server that accepts
every message and writes it, as received, into a folder (one .eml a message).

Usage: python3 scripts/demo-sink.py HOST PORT FOLDER

It stands where your real mail system (Postfix, Dovecot's LMTP, ...) would be,
so that a newcomer sees where postern-relay handed the message. Not for
production: no TLS, no limits beyond the line and message caps below.
"""
import asyncio
import os
import sys
import time

LINE_MAX = 4096
MESSAGE_MAX = 64 * 1024 * 1024


class Session:
    def __init__(self, folder, reader, writer):
        self.folder, self.reader, self.writer = folder, reader, writer
        self.sender, self.rcpts = None, []

    def reply(self, line):
        self.writer.write(line.encode() + b"\r\n")

    async def data(self):
        lines, size = [], 0
        while True:
            line = await self.reader.readline()
            if not line:
                return None
            if line in (b".\r\n", b".\n"):
                break
            if line.startswith(b"."):
                line = line[1:]
            size += len(line)
            if size > MESSAGE_MAX:
                return False
            lines.append(line)
        return b"".join(lines)

    def store(self, message):
        name = "%s-%06d.eml" % (time.strftime("%Y%m%d-%H%M%S"), time.time_ns() // 1000 % 1000000)
        path = os.path.join(self.folder, name)
        with open(path + ".tmp", "wb") as f:
            f.write(message)
            f.flush()
            os.fsync(f.fileno())
        os.rename(path + ".tmp", path)
        print("demo-sink: from %s to %s: %s" % (self.sender, ", ".join(self.rcpts), path),
              flush=True)

    async def run(self):
        self.reply("220 demo-sink ESMTP")
        while True:
            line = await self.reader.readline()
            if not line or len(line) > LINE_MAX:
                break
            cmd = line.decode("utf-8", "replace").strip()
            verb = cmd.split(" ", 1)[0].upper()
            if verb in ("EHLO", "LHLO"):
                self.reply("250-demo-sink\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n"
                           "250 SIZE %d" % MESSAGE_MAX)
            elif verb == "HELO":
                self.reply("250 demo-sink")
            elif verb == "MAIL":
                self.sender, self.rcpts = cmd[10:].split(" ")[0], []
                self.reply("250 2.1.0 Ok")
            elif verb == "RCPT":
                self.rcpts.append(cmd[8:].split(" ")[0])
                self.reply("250 2.1.5 Ok")
            elif verb == "DATA":
                if not self.rcpts:
                    self.reply("503 5.5.1 RCPT first")
                    continue
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                await self.writer.drain()
                message = await self.data()
                if message is None:
                    break
                if message is False:
                    self.reply("552 5.3.4 Message too big")
                else:
                    self.store(message)
                    self.reply("250 2.0.0 Ok: queued")
                self.sender, self.rcpts = None, []
            elif verb == "RSET":
                self.sender, self.rcpts = None, []
                self.reply("250 2.0.0 Ok")
            elif verb == "NOOP":
                self.reply("250 2.0.0 Ok")
            elif verb == "QUIT":
                self.reply("221 2.0.0 Bye")
                break
            else:
                self.reply("502 5.5.2 Command not implemented")
            await self.writer.drain()
        await self.writer.drain()
        self.writer.close()


async def main(host, port, folder):
    os.makedirs(folder, exist_ok=True)

    async def serve(reader, writer):
        try:
            await Session(folder, reader, writer).run()
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            writer.close()     # ValueError: a line longer than the reader's limit

    server = await asyncio.start_server(serve, host, port, limit=1 << 20)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit("usage: demo-sink.py HOST PORT FOLDER")
    try:
        asyncio.run(main(sys.argv[1], int(sys.argv[2]), sys.argv[3]))
    except KeyboardInterrupt:
        pass
