"""HTTP requests photogate makes to other services: JSON POSTs to public addresses only.

A callback URL is chosen by a user, so it could point at this machine or its private network
(server-side request forgery). Every address the name resolves to must be public unless the
configuration allows private ones, and redirects are not followed.
"""

import ipaddress
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlsplit

TIMEOUT_SECONDS = 15


class ForbiddenDestination(Exception):
    """The URL is not http(s), does not resolve, or reaches a private or loopback address."""


class DeliveryFailed(Exception):
    """The request did not get an answer (refused, timed out, unreachable)."""


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes


def check_destination(url: str, allow_private: bool) -> None:
    """Raise ForbiddenDestination unless `url` may be called."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ForbiddenDestination("The URL must be an http or https URL with a host name.")
    if allow_private:
        return
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(parts.hostname, parts.port or 443)}
    except (socket.gaierror, UnicodeError) as exc:
        raise ForbiddenDestination(f"The host {parts.hostname} does not resolve.") from exc
    for address in addresses:
        if not ipaddress.ip_address(address.split("%", 1)[0]).is_global:
            raise ForbiddenDestination(f"The host {parts.hostname} is on a loopback or private network.")


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def post_json(url: str, body: str, headers: dict[str, str], allow_private: bool) -> Answer:
    """POST `body`; the answer whatever its status, or DeliveryFailed when there is none."""
    check_destination(url, allow_private)
    request = urllib.request.Request(url, data=body.encode(), headers=headers, method="POST")
    try:
        with _opener.open(request, timeout=TIMEOUT_SECONDS) as response:
            return Answer(response.status, response.read(4096))
    except urllib.error.HTTPError as error:
        return Answer(error.code, error.read(4096))
    except (urllib.error.URLError, OSError) as exc:
        raise DeliveryFailed(str(getattr(exc, "reason", exc))) from exc
