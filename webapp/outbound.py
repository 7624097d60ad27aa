"""HTTP requests photogate makes to other services: JSON POSTs to public addresses only.

A callback URL is chosen by a user, so it could point at this machine or its private network
(server-side request forgery). The name is resolved once, every address it resolves to must be
global unicast unless the configuration allows private ones, and the connection goes to an
address that was checked, so DNS cannot answer differently between the check and the connect.
Redirects are not followed.
"""

import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

TIMEOUT_SECONDS = 15
_DEFAULT_PORTS = {"http": http.client.HTTP_PORT, "https": http.client.HTTPS_PORT}

# Every unicast address in use on the internet is in 2000::/3 (RFC 4291, IANA's IPv6 address
# space); outside it are loopback, ULA, link-local, multicast and the IPv4 embeddings handled apart.
_IPV6_GLOBAL_UNICAST = ipaddress.IPv6Network("2000::/3")
# Documentation prefix of RFC 9637 (2024), which the ipaddress module does not know yet.
_IPV6_DOCUMENTATION = ipaddress.IPv6Network("3fff::/20")
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# One entry of socket.getaddrinfo: (family, type, proto, canonname, sockaddr).
AddressInfo = tuple[socket.AddressFamily, socket.SocketKind, int, str, tuple]


class ForbiddenDestination(Exception):
    """The URL is not http(s), does not resolve, or reaches a private or loopback address."""


class DeliveryFailed(Exception):
    """The request did not get an answer (refused, timed out, unreachable)."""


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes


@dataclass(frozen=True)
class _Destination:
    scheme: str
    host: str
    port: int
    target: str  # the path and query the request line names


def is_global_unicast(address: IPAddress) -> bool:
    """Whether `address` is reachable on the public internet and not multicast.

    An IPv6 address that stands for an IPv4 one is judged by the IPv4 address it carries.
    """
    if address.version == 4:
        return address.is_global and not address.is_multicast
    embedded = _embedded_ipv4(address)
    if embedded:
        return all(is_global_unicast(ipv4) for ipv4 in embedded)
    return address in _IPV6_GLOBAL_UNICAST and address.is_global and address not in _IPV6_DOCUMENTATION


def _embedded_ipv4(address: ipaddress.IPv6Address) -> tuple[ipaddress.IPv4Address, ...]:
    """The IPv4 addresses a mapped, compatible, NAT64, 6to4 or Teredo address carries; else none."""
    if address.ipv4_mapped is not None:
        return (address.ipv4_mapped,)
    if address in _IPV4_COMPATIBLE or address in _NAT64:
        return (ipaddress.IPv4Address(int(address) & 0xFFFFFFFF),)
    if address.sixtofour is not None:
        return (address.sixtofour,)
    # A Teredo address names both the relay's server and the client behind it.
    return address.teredo or ()


def check_destination(url: str, allow_private: bool) -> None:
    """Raise ForbiddenDestination unless `url` may be called."""
    destination = _destination(url)
    if allow_private:
        return
    try:
        addresses = _resolve(destination)
    except DeliveryFailed as exc:
        raise ForbiddenDestination(str(exc)) from exc
    _refuse_forbidden(destination, addresses, allow_private)


def post_json(url: str, body: str, headers: dict[str, str], allow_private: bool) -> Answer:
    """POST `body` to an address checked beforehand; the answer whatever its status, or DeliveryFailed."""
    destination = _destination(url)
    addresses = _resolve(destination)
    _refuse_forbidden(destination, addresses, allow_private)
    kind = _PinnedTLSConnection if destination.scheme == "https" else _PinnedConnection
    connection = kind(destination.host, destination.port, addresses)
    try:
        connection.request("POST", destination.target, body=body.encode(), headers=headers)
        response = connection.getresponse()
        return Answer(response.status, response.read(4096))
    except (OSError, http.client.HTTPException) as exc:
        raise DeliveryFailed(str(exc) or type(exc).__name__) from exc
    finally:
        connection.close()


def _destination(url: str) -> _Destination:
    """What a request to `url` needs; ForbiddenDestination unless it is an http(s) URL with a host."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ForbiddenDestination("The URL must be an http or https URL with a host name.") from exc
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise ForbiddenDestination("The URL must be an http or https URL with a host name.")
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return _Destination(parts.scheme, parts.hostname, port or _DEFAULT_PORTS[parts.scheme], target)


def _resolve(destination: _Destination) -> list[AddressInfo]:
    """Every TCP address the host has, looked up once; DeliveryFailed when it has none."""
    try:
        return socket.getaddrinfo(destination.host, destination.port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise DeliveryFailed(f"The host {destination.host} does not resolve.") from exc


def _refuse_forbidden(destination: _Destination, addresses: list[AddressInfo], allow_private: bool) -> None:
    """Raise ForbiddenDestination if any address may not be called; multicast never may."""
    for *_, sockaddr in addresses:
        address = ipaddress.ip_address(sockaddr[0])
        if address.is_multicast or not (allow_private or is_global_unicast(address)):
            raise ForbiddenDestination(
                f"The host {destination.host} is on a loopback, private or otherwise non-public network."
            )


def _connect(addresses: list[AddressInfo], timeout: float) -> socket.socket:
    """A socket connected to the first of `addresses` that accepts, without looking the name up again."""
    failure: OSError = ConnectionError("No address to connect to.")
    for family, kind, proto, _, sockaddr in addresses:
        sock = socket.socket(family, kind, proto)
        try:
            sock.settimeout(timeout)
            sock.connect(sockaddr)
        except OSError as exc:
            sock.close()
            failure = exc
            continue
        return sock
    raise failure


class _PinnedConnection(http.client.HTTPConnection):
    """HTTP/1.1 to `host` (its Host header) over a socket to addresses resolved and checked beforehand."""

    def __init__(self, host: str, port: int, addresses: list[AddressInfo]):
        super().__init__(host, port, timeout=TIMEOUT_SECONDS)
        self.addresses = addresses

    def connect(self) -> None:
        self.sock = _connect(self.addresses, self.timeout)


class _PinnedTLSConnection(_PinnedConnection):
    """HTTPS the same way: TLS over the pinned socket, with SNI and the certificate checked for `host`."""

    default_port = http.client.HTTPS_PORT

    def connect(self) -> None:
        super().connect()
        self.sock = ssl.create_default_context().wrap_socket(self.sock, server_hostname=self.host)
