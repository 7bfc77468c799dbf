#!/usr/bin/env python3
"""A webhook receiver for the benchmark: answers the validation challenge with
the secret read from SECRET_FILE (waiting for it up to 5 s), verifies each
event's signature, and keeps the number of distinct event ids in COUNT_FILE.

    scripts/webhook-receiver.py PORT SECRET_FILE COUNT_FILE [IDS_FILE]
With IDS_FILE, every event's x-offboard-event-id is appended to it, one a line,
so duplicates (at-least-once delivery) can be counted. Listens on 127.0.0.1 only."""
import hashlib
import hmac
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT, SECRET_FILE, COUNT_FILE = int(sys.argv[1]), sys.argv[2], sys.argv[3]
IDS = open(sys.argv[4], "a", buffering=1) if len(sys.argv) > 4 else None
seen, bad, lock = set(), [0], threading.Lock()


def secret():
    for _ in range(100):
        if os.path.exists(SECRET_FILE) and open(SECRET_FILE).read().strip():
            return open(SECRET_FILE).read().strip()
        time.sleep(0.05)
    return ""


last = [0.0]


def keep_count():
    """Writes the count a few times a second (not once per event)."""
    while True:
        time.sleep(0.2)
        with lock:
            line = f"{len(seen)} {bad[0]} {last[0]}\n"
        with open(COUNT_FILE + ".tmp", "w") as f:
            f.write(line)
        os.replace(COUNT_FILE + ".tmp", COUNT_FILE)


class Hook(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the sender reuses its connections

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        event = json.loads(body or b"{}")
        key = secret().encode()
        if event.get("event") == "endpoint.url_validation":
            plain = event["payload"]["plainToken"]
            reply = json.dumps({"plainToken": plain,
                                "encryptedToken": hmac.new(key, plain.encode(), hashlib.sha256).hexdigest()})
            self.answer(200, reply.encode())
            return
        ts = self.headers.get("x-zm-request-timestamp", "")
        expected = "v0=" + hmac.new(key, b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()
        with lock:
            if expected not in self.headers.get("x-zm-signature", "").split(","):
                bad[0] += 1
            seen.add(self.headers.get("x-offboard-event-id"))
            if IDS:
                IDS.write(f"{self.headers.get('x-offboard-event-id')}\n")
            last[0] = time.time()
        self.answer(200, b"")

    def answer(self, code, body):
        self.send_response(code)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


threading.Thread(target=keep_count, daemon=True).start()
ThreadingHTTPServer(("127.0.0.1", PORT), Hook).serve_forever()
