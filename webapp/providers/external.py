"""The `external` provider's one outgoing call: a signed JSON request to the moderation service."""

import json

from webapp import outbound, signing
from webapp.providers import ModerationFailed, ModerationUnavailable


def request_moderation(url: str, secret: str, payload: dict, message_id: str) -> None:
    """Send the request; transient failures raise ModerationUnavailable, refusals ModerationFailed."""
    body = json.dumps(payload, separators=(",", ":"))
    try:
        # The service's URL comes from the operator's configuration, not from a user: it may be private.
        answer = outbound.post_json(
            url, body, signing.signed_headers([secret], body, message_id), allow_private=True
        )
    except outbound.DeliveryFailed as exc:
        raise ModerationUnavailable(f"The moderation service did not answer: {exc}") from exc
    if answer.status >= 500 or answer.status in (408, 429):
        raise ModerationUnavailable(f"The moderation service answered {answer.status}.")
    if answer.status >= 400:
        raise ModerationFailed(f"The moderation service refused the image (HTTP {answer.status}).")
