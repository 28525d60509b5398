#!/usr/bin/env python3
"""A proxy in front of the Docker engine's unix socket that fails or holds chosen requests, for the fault tests.

    fault_proxy.py --listen /tmp/x.sock --log /tmp/x.log [--fail 'GET /containers/[^/]+/archive'] [--status 500]
                   [--hold-response 'POST /containers/create' --hold-seconds 3] [--cut 'POST /exec/[^/]+/start' --cut-seconds 1.5]
                   [--upstream /var/run/docker.sock]

A rule is a method and a regular expression matched against the whole path (API version prefix and query cut off).
--fail answers the request itself with --status and a JSON message; --hold-response forwards the request at once and
relays the engine's answer only after --hold-seconds (the engine has done the work; the client waits); --cut relays the
request and closes both of its connections --cut-seconds later, as a link that breaks does, while new connections still
reach the engine. Every request line is logged as "<ACTION> <METHOD> <PATH>" (FAIL, HOLD, CUT or PASS), flushed at
once, so a test can wait for a request.
Only a connection's first request is looked at, the rest of it (an exec's hijacked stream too) is relayed as it is; so
that a client that keeps connections alive still shows the proxy every request, each request but an upgrade goes to the
engine with "Connection: close", and the engine's answer then tells the client to open a new connection for the next.
"""
import argparse
import asyncio
import os
import re
import signal
import sys


def parse_rule(text):
    method, _, pattern = text.partition(" ")
    return method.upper(), re.compile(pattern)


def matches(rule, method, path):
    return rule is not None and rule[0] in (method, "*") and rule[1].fullmatch(path) is not None


def closing(head):
    lines = head[:-4].split(b"\r\n")
    if any(line.lower().startswith(b"upgrade:") for line in lines[1:]):
        return head
    kept = [line for line in lines[1:] if not line.lower().startswith(b"connection:")]
    return b"\r\n".join([lines[0], *kept, b"Connection: close"]) + b"\r\n\r\n"


class Proxy:
    def __init__(self, args):
        self.args = args
        self.fail = parse_rule(args.fail) if args.fail else None
        self.hold = parse_rule(args.hold_response) if args.hold_response else None
        self.cut = parse_rule(args.cut) if args.cut else None
        self.log = open(args.log, "a", buffering=1)

    def record(self, action, method, path):
        self.log.write(f"{action} {method} {path}\n")

    async def handle(self, client_reader, client_writer):
        try:
            head = await client_reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            client_writer.close()
            return
        request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
        parts = request_line.split(" ")
        method = parts[0].upper() if parts else ""
        path = re.sub(r"^/v[0-9.]+", "", parts[1].split("?", 1)[0]) if len(parts) > 1 else ""

        if matches(self.fail, method, path):
            self.record("FAIL", method, path)
            body = b'{"message":"fault_proxy: injected failure"}'
            client_writer.write(
                f"HTTP/1.1 {self.args.status} Injected\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body)
            await client_writer.drain()
            client_writer.close()
            return

        hold = self.args.hold_seconds if matches(self.hold, method, path) else 0
        cut = self.args.cut_seconds if matches(self.cut, method, path) else None
        self.record("HOLD" if hold else "CUT" if cut is not None else "PASS", method, path)
        try:
            upstream_reader, upstream_writer = await asyncio.open_unix_connection(self.args.upstream)
        except OSError:
            client_writer.close()
            return
        upstream_writer.write(closing(head))
        relays = asyncio.gather(self.relay(client_reader, upstream_writer, 0), self.relay(upstream_reader, client_writer, hold),
                                return_exceptions=True)
        try:
            await asyncio.wait_for(relays, cut)
        except asyncio.TimeoutError:
            self.record("CLOSED", method, path)
        for writer in (client_writer, upstream_writer):
            writer.close()

    @staticmethod
    async def relay(reader, writer, hold):
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                if hold:
                    await asyncio.sleep(hold)
                    hold = 0
                writer.write(data)
                await writer.drain()
            if writer.can_write_eof():
                writer.write_eof()
        except (ConnectionError, OSError):
            writer.close()


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--listen", required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--upstream", default="/var/run/docker.sock")
    parser.add_argument("--fail")
    parser.add_argument("--status", type=int, default=500)
    parser.add_argument("--hold-response")
    parser.add_argument("--hold-seconds", type=float, default=3.0)
    parser.add_argument("--cut")
    parser.add_argument("--cut-seconds", type=float, default=1.5)
    args = parser.parse_args()
    if os.path.exists(args.listen):
        os.unlink(args.listen)
    proxy = Proxy(args)
    server = await asyncio.start_unix_server(proxy.handle, path=args.listen)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()
    os.unlink(args.listen)


if __name__ == "__main__":
    asyncio.run(main())
    sys.exit(0)
