"""Standard Webhooks signatures (webhook-id, webhook-timestamp, webhook-signature), via the reference library.

The library does the HMAC-SHA256, the constant-time comparison and the 5-minute tolerance both
ways; here are only what it leaves to its caller: making secrets, several secrets at once
(rotation), and its parsing errors (a signature without a comma, bad base64) turned into a plain
refusal.
"""

import base64
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from secrets import token_bytes

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


class BadSignature(Exception):
    """Missing, malformed, stale or wrong signature headers."""


@dataclass(frozen=True)
class Verified:
    webhook_id: str
    sent_at: datetime


def new_secret() -> str:
    """A new secret in the spec's form: `whsec_` and 32 random bytes in base64 (it allows 24 to 64)."""
    return "whsec_" + base64.b64encode(token_bytes(32)).decode()


def secrets_from(setting: str) -> list[str]:
    """Every active secret of a setting: `whsec_…`, space- or comma-separated during a rotation."""
    return [secret for secret in setting.replace(",", " ").split() if secret]


def verify(secrets: list[str], body: str, headers: dict[str, str]) -> Verified:
    """Check the body's signature against each active secret; BadSignature if none matches."""
    headers = {name.lower(): value for name, value in headers.items()}
    for secret in secrets:
        try:
            Webhook(secret).verify(body, headers, json_parse=False)
        except (WebhookVerificationError, ValueError):
            continue
        sent_at = datetime.fromtimestamp(int(float(headers["webhook-timestamp"])), UTC)
        return Verified(headers["webhook-id"], sent_at)
    raise BadSignature()


def signed_headers(secrets: Sequence[str], body: str, message_id: str | None = None) -> dict[str, str]:
    """Headers that sign `body` for a receiver that verifies Standard Webhooks.

    One signature per secret, space-separated as the spec allows, so that during a rotation a
    receiver holding either the old or the new secret accepts the message. A retry of the same
    message must reuse its id, so receivers can tell it is the same event.
    """
    message_id = message_id or f"msg_{uuid.uuid4().hex}"
    now = datetime.now(UTC)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": " ".join(Webhook(secret).sign(message_id, now, body) for secret in secrets),
        "content-type": "application/json",
    }
