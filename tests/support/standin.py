"""A stand-in for services on the other end of photogate's webhooks, on loopback.

It receives what photogate sends (moderation requests, job notifications), checks the Standard
Webhooks signature, and answers with the statuses a test scripts. As a moderation vendor it
calls photogate's webhook back, signed, whenever the test says: on time, late, twice, out of
order, or forged.
"""

import json
import threading
import urllib.error
import urllib.request
import uuid
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from tests.support.factories import wait_for


@dataclass
class Received:
    headers: dict[str, str]
    body: dict
    signature_valid: bool
    raw: str  # the body as sent, for checking its signature with other secrets

    def verifies_with(self, secret: str) -> bool:
        """Whether a receiver holding `secret` accepts this request."""
        try:
            Webhook(secret).verify(self.raw, self.headers, json_parse=False)
        except (WebhookVerificationError, ValueError):  # ValueError: a malformed signature
            return False
        return True


class StandIn:
    def __init__(self, verifying_secret: str):
        self.verifying_secret = verifying_secret
        self.received: list[Received] = []
        self.answers: deque[int] = deque()  # statuses to answer with, in turn; then 200
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_port}/hook"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> "StandIn":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self):
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers["Content-Length"])).decode()
                headers = {name.lower(): value for name, value in self.headers.items()}
                received = Received(headers, json.loads(raw), False, raw)
                received.signature_valid = received.verifies_with(stand_in.verifying_secret)
                stand_in.received.append(received)
                status = stand_in.answers.popleft() if stand_in.answers else 200
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        return Handler

    def wait_for_requests(self, count: int, timeout: float = 60) -> list[Received]:
        wait_for(lambda: len(self.received) >= count, timeout)
        return self.received


def call_back(
    url: str, secret: str, event: dict, webhook_id: str | None = None, sent_at: datetime | None = None
):
    """POST a signed moderation verdict to photogate, as the vendor would; returns (status, body)."""
    body = json.dumps(event)
    webhook_id = webhook_id or f"msg_{uuid.uuid4().hex}"
    sent_at = sent_at or datetime.now(UTC)
    headers = {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": Webhook(secret).sign(webhook_id, sent_at, body),
        "content-type": "application/json",
    }
    request = urllib.request.Request(url, data=body.encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)
