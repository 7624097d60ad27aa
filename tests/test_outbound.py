"""The outbound filter: which addresses are refused, and that a request goes to the address checked.

No test here reaches past this machine. Names are answered by a scripted resolver, and every
connection is recorded: a "public" address the script hands out is routed to a listener on
loopback, and any other address off this machine is refused before a packet leaves.
"""

import ipaddress
import socket
import ssl
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from webapp import outbound

PUBLIC = "1.1.1.1"  # the public address the scripted resolver hands out; routed to loopback
TEREDO_TO_LOOPBACK = "2001:0:808:808::80ff:fffe"  # server 8.8.8.8, client 127.0.0.1 (inverted)
TEREDO_TO_PUBLIC = "2001:0:808:808::fefe:fefe"  # server 8.8.8.8, client 1.1.1.1 (inverted)
NO_CIPHER_ONLY = {"encipher_only": False, "decipher_only": False}


@dataclass
class Network:
    """What the code under test saw of the network: the names it looked up, the addresses it dialled."""

    answers: dict[str, list[list[str]]] = field(default_factory=dict)  # each lookup takes the next
    routes: dict[str, int] = field(default_factory=dict)  # public address -> loopback port
    lookups: list[str] = field(default_factory=list)
    dialled: list[str] = field(default_factory=list)


@pytest.fixture(autouse=True)
def network(monkeypatch) -> Network:
    """A resolver that answers scripted names and IP literals only, and a guard on every connect."""
    net = Network()
    real_getaddrinfo, real_connect = socket.getaddrinfo, socket.socket.connect

    def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
        if host not in net.answers:
            # Numeric only: a name the test did not script fails instead of reaching a DNS server.
            return real_getaddrinfo(host, port, family, type, proto, flags | socket.AI_NUMERICHOST)
        net.lookups.append(host)
        script = net.answers[host]
        addresses = script.pop(0) if len(script) > 1 else script[0]
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
            for a in addresses
        ]

    def connect(sock, address):
        net.dialled.append(address[0])
        if address[0] in net.routes:
            return real_connect(sock, ("127.0.0.1", net.routes[address[0]]))
        if ipaddress.ip_address(address[0]).is_loopback:
            return real_connect(sock, address)
        raise ConnectionRefusedError(f"The tests reach nothing off this machine ({address[0]}).")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)
    return net


class Listener:
    """A loopback HTTP(S) server answering `status`; it records each request's Host, path and TLS name."""

    def __init__(self, status: int = 204, tls: ssl.SSLContext | None = None):
        self.requests: list[tuple[str, str]] = []
        self.server_names: list[str] = []
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["Content-Length"]))
                listener.requests.append((self.headers["Host"], self.path))
                self.send_response(status)
                self.send_header("Location", f"http://127.0.0.1:{listener.port}/elsewhere")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_port
        if tls:
            tls.sni_callback = lambda sock, name, context: self.server_names.append(name)
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def listen():
    listeners: list[Listener] = []

    def start(**options) -> Listener:
        listeners.append(Listener(**options))
        return listeners[-1]

    yield start
    for listener in listeners:
        listener.close()


def _certificate(subject: str, issuer: str, key, signing_key, extensions) -> x509.Certificate:
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signing_key.public_key()), critical=False
        )
    )
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical=critical)
    return builder.sign(signing_key, hashes.SHA256())


@pytest.fixture
def tls_for_hooks_test(tmp_path, monkeypatch) -> ssl.SSLContext:
    """A server context with a certificate for hooks.test, from a CA this process's clients trust."""
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = _certificate(
        "photogate test CA",
        "photogate test CA",
        ca_key,
        ca_key,
        [
            (x509.BasicConstraints(ca=True, path_length=None), True),
            (x509.KeyUsage(*[False] * 5, key_cert_sign=True, crl_sign=True, **NO_CIPHER_ONLY), True),
        ],
    )
    leaf = _certificate(
        "hooks.test",
        "photogate test CA",
        key,
        ca_key,
        [
            (x509.BasicConstraints(ca=False, path_length=None), True),
            (x509.SubjectAlternativeName([x509.DNSName("hooks.test")]), False),
            (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False),
        ],
    )
    (tmp_path / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "leaf.pem").write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    # OpenSSL reads its default trust store from SSL_CERT_FILE: the code under test runs unpatched.
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "ca.pem"))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "leaf.pem", tmp_path / "key.pem")
    return context


def post(url: str, allow_private: bool = False) -> outbound.Answer:
    return outbound.post_json(url, '{"hello":"world"}', {"content-type": "application/json"}, allow_private)


@pytest.mark.parametrize(
    "host",
    [
        # IPv4: loopback, private, link-local, shared (CGNAT), multicast, unspecified, broadcast,
        # benchmarking, documentation, reserved.
        "127.0.0.1",
        "127.8.9.10",
        "10.0.0.1",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "224.0.0.1",
        "239.255.255.250",
        "0.0.0.0",
        "255.255.255.255",
        "198.18.0.1",
        "192.0.2.1",
        "240.0.0.1",
        # IPv6: loopback, unspecified, ULA, link-local, site-local, multicast,
        # documentation (old and RFC 9637), discard.
        "[::1]",
        "[::]",
        "[fc00::1]",
        "[fd12:3456::1]",
        "[fe80::1]",
        "[fec0::1]",
        "[ff02::1]",
        "[ff0e::1]",
        "[2001:db8::1]",
        "[3fff::1]",
        "[100::1]",
        # IPv6 forms carrying a non-public IPv4 address: NAT64 (and its local-use prefix),
        # IPv4-compatible, 6to4, IPv4-mapped, Teredo.
        "[64:ff9b::7f00:1]",
        "[64:ff9b::a00:1]",
        "[64:ff9b:1::808:808]",
        "[::127.0.0.1]",
        "[::10.0.0.1]",
        "[2002:7f00:1::]",
        "[2002:a00:1::1]",
        "[::ffff:10.0.0.1]",
        "[::ffff:127.0.0.1]",
        "[::ffff:224.0.0.1]",
        f"[{TEREDO_TO_LOOPBACK}]",
    ],
)
def test_every_non_public_address_is_refused_before_any_connection(network, host):
    for url in (f"http://{host}/hook", f"https://{host}:8443/hook"):
        with pytest.raises(outbound.ForbiddenDestination):
            outbound.check_destination(url, allow_private=False)
        with pytest.raises(outbound.ForbiddenDestination):
            post(url)
    assert network.dialled == []


@pytest.mark.parametrize(
    "answer", [["10.0.0.5"], ["fd00::5"], [PUBLIC, "127.0.0.1"], ["::ffff:192.168.0.1"], ["fe80::1%eth0"]]
)
def test_a_name_resolving_to_any_non_public_address_is_refused(network, answer):
    network.answers["intranet.test"] = [answer]

    with pytest.raises(outbound.ForbiddenDestination, match=r"intranet\.test"):
        outbound.check_destination("https://intranet.test/hook", allow_private=False)
    with pytest.raises(outbound.ForbiddenDestination):
        post("https://intranet.test/hook")
    assert network.dialled == []


@pytest.mark.parametrize(
    "url",
    [
        "http://8.8.8.8/hook",
        "https://1.1.1.1:8443/hook?x=1",
        "https://[2001:4860:4860::8888]/hook",
        "http://[::ffff:8.8.8.8]/hook",
        "http://[64:ff9b::808:808]/hook",
        "http://[2002:808:808::1]/hook",
        f"http://[{TEREDO_TO_PUBLIC}]/hook",
        "https://hooks.test/hook",
    ],
)
def test_a_public_address_passes_the_check_without_touching_the_network(network, url):
    network.answers["hooks.test"] = [[PUBLIC, "2606:4700:4700::1111"]]

    outbound.check_destination(url, allow_private=False)

    assert network.dialled == []


def test_the_request_goes_to_the_address_checked_even_when_dns_answers_otherwise_later(network, listen):
    public_stand_in, internal = listen(), listen()
    network.answers["rebind.test"] = [[PUBLIC], ["127.0.0.1"]]  # public when checked, loopback after
    network.routes[PUBLIC] = public_stand_in.port

    answer = post(f"http://rebind.test:{internal.port}/hook?n=1")

    assert answer.status == 204
    assert network.lookups == ["rebind.test"]
    assert network.dialled == [PUBLIC]
    assert public_stand_in.requests == [(f"rebind.test:{internal.port}", "/hook?n=1")]
    assert internal.requests == []


def test_https_is_pinned_to_the_address_checked_with_the_name_for_sni_certificate_and_host(
    network, listen, tls_for_hooks_test
):
    server = listen(tls=tls_for_hooks_test)
    network.answers["hooks.test"] = [[PUBLIC], ["127.0.0.1"]]
    network.routes[PUBLIC] = server.port

    answer = post("https://hooks.test/hook")

    assert answer.status == 204
    assert network.dialled == [PUBLIC]
    assert server.server_names == ["hooks.test"]
    assert server.requests == [("hooks.test", "/hook")]  # port 443 is the default: not named


def test_https_refuses_a_certificate_that_is_not_for_the_urls_name(network, listen, tls_for_hooks_test):
    server = listen(tls=tls_for_hooks_test)
    network.answers["other.test"] = [[PUBLIC]]
    network.routes[PUBLIC] = server.port

    with pytest.raises(outbound.DeliveryFailed, match="CERTIFICATE_VERIFY_FAILED"):
        post("https://other.test/hook")
    assert server.requests == []


def test_a_redirect_is_answered_back_not_followed(listen):
    server = listen(status=302)

    answer = post(f"http://127.0.0.1:{server.port}/hook", allow_private=True)

    assert answer.status == 302
    assert server.requests == [(f"127.0.0.1:{server.port}", "/hook")]


def test_allowing_private_addresses_lets_loopback_through_but_never_multicast(network, listen):
    server = listen()
    network.answers["receiver.test"] = [["127.0.0.1"]]

    outbound.check_destination("http://10.0.0.1/hook", allow_private=True)
    assert post(f"http://receiver.test:{server.port}/hook", allow_private=True).status == 204
    assert server.requests == [(f"receiver.test:{server.port}", "/hook")]
    with pytest.raises(outbound.ForbiddenDestination):
        post("http://224.0.0.1:9/hook", allow_private=True)
    assert network.dialled == ["127.0.0.1"]


def test_no_answer_or_no_address_is_a_delivery_failure(listen):
    closed = listen()
    closed.close()

    with pytest.raises(outbound.DeliveryFailed):
        post(f"http://127.0.0.1:{closed.port}/hook", allow_private=True)
    with pytest.raises(outbound.DeliveryFailed, match="does not resolve"):
        post("http://nowhere.test/hook", allow_private=True)
    with pytest.raises(outbound.ForbiddenDestination, match="does not resolve"):
        outbound.check_destination("http://nowhere.test/hook", allow_private=False)


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/x",
        "file:///etc/passwd",
        "not a url",
        "http://:80/x",
        "http://a.test:99999/",
        "http://[::1/x",
    ],
)
def test_anything_but_an_http_url_with_a_host_is_refused(url):
    for allow_private in (False, True):
        with pytest.raises(outbound.ForbiddenDestination):
            outbound.check_destination(url, allow_private)
