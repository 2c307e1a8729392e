"""Outbound safety: where webhooks and in-app messages may go. The rules on
their own (no lookups but the system resolver's answer for localhost), then
deliveries to the real HTTP server of the tests on loopback, which the
default refuses and an allow-list admits."""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import threading
from contextlib import ExitStack, contextmanager

import pytest

from cs_cli.channels import Envelope
from cs_cli.channels.in_app import InAppChannel
from cs_cli.channels.targets import resolve
from cs_cli.channels.webhook import HttpConfig, WebhookChannel
from cs_cli.domain import OutboxChannel, OutboxStatus
from cs_cli.domain.outbound import (
    AllowList,
    Refused,
    address_problem,
    mask_url,
    mask_urls,
    parse_allow_list,
    url_problem,
)
from cs_cli.errors import BadInput
from cs_cli.services.outbox.enqueue import NewMessage, enqueue

from .test_outbox import NO_RULES, NOW, POLICY, SECRET, outbox, put, run, webhook

# --- the rules ---


@pytest.mark.parametrize(
    "address, problem",
    [
        ("127.0.0.1", "a loopback address"),
        ("127.8.9.10", "a loopback address"),
        ("::1", "a loopback address"),
        ("10.1.2.3", "a private address"),
        ("172.16.0.1", "a private address"),
        ("192.168.1.1", "a private address"),
        ("fd12:3456::1", "a private address"),
        ("169.254.1.1", "a link-local address"),
        ("fe80::1", "a link-local address"),
        ("0.0.0.0", "an unspecified address"),
        ("::", "an unspecified address"),
        ("224.0.0.1", "a multicast address"),
        ("ff02::1", "a multicast address"),
        ("100.64.0.1", "a reserved address"),
        ("240.0.0.1", "a private address"),
        ("169.254.169.254", "a cloud metadata address"),
        ("fd00:ec2::254", "a cloud metadata address"),
        ("168.63.129.16", "a cloud metadata address"),
        # IPv6 spellings of IPv4 addresses are checked as the IPv4 address.
        ("::ffff:127.0.0.1", "a loopback address"),
        ("::ffff:10.0.0.1", "a private address"),
        ("::127.0.0.1", "a loopback address"),
        ("64:ff9b::a00:1", "a private address"),
        ("2002:7f00:1::", "a loopback address"),
        ("93.184.216.34", None),
        ("::ffff:93.184.216.34", None),
        ("2606:2800:220:1:248:1893:25c8:1946", None),
    ],
)
def test_addresses_outbound_requests_must_not_reach(address, problem):
    assert address_problem(ipaddress.ip_address(address)) == problem


@pytest.mark.parametrize(
    "url",
    [
        "http://2130706433/",  # 127.0.0.1 as one decimal number
        "http://0x7f000001/",  # ... as hex
        "http://0x7f.0.0.1/",
        "http://0177.0.0.1/",  # ... with an octal byte
        "http://127.1/",  # ... with bytes left out
        "http://0/",  # 0.0.0.0
        "http://010.0.0.1:8080/hook",
    ],
)
def test_odd_spellings_of_ip_addresses_are_refused(url):
    assert "an IP address written oddly" in url_problem(url)


@pytest.mark.parametrize(
    "url, says",
    [
        ("https://user:pw@hooks.example.com/x", "credentials in a URL are refused"),
        ("https://token@hooks.example.com/x", "credentials in a URL are refused"),
        ("ftp://hooks.example.com/x", "only http:// and https:// URLs"),
        ("file:///etc/passwd", "only http:// and https:// URLs"),
        ("gopher://127.0.0.1:5432/", "only http:// and https:// URLs"),
        ("http:///path", "no host in the URL"),
        ("http://hooks.example.com:99999/", "not a URL"),
        ("http://hooks example.com/", "no spaces"),
    ],
)
def test_urls_that_can_never_be_destinations(url, says):
    problem = url_problem(url)
    assert problem is not None and says in problem
    assert "pw" not in problem and "token" not in problem  # the reason never repeats a secret


def test_usual_spellings_are_normalised_not_refused():
    assert url_problem("https://Hooks.Example.COM./x?y=1") is None
    assert url_problem("http://127.0.0.1./x") is None
    assert url_problem("http://[::ffff:127.0.0.1]:8080/") is None
    # ... and then checked as what they are.
    fullwidth = "http://\uff11\uff12\uff17.\uff10.\uff10.\uff11/"
    for url in ("http://127.0.0.1./x", "http://[::ffff:127.0.0.1]:8080/", fullwidth):
        with pytest.raises(Refused, match=r"127\.0\.0\.1 is a loopback address"):
            resolve(url, AllowList())


def test_a_public_address_passes_and_the_request_goes_to_the_address_checked():
    target = resolve("https://93.184.216.34/hooks/cs?a=1", AllowList())
    assert (target.host, target.port, str(target.address)) == ("93.184.216.34", 443, "93.184.216.34")
    assert target.pinned_url() == "https://93.184.216.34:443/hooks/cs?a=1"
    # An allow-list without `public` admits only what it names.
    with pytest.raises(Refused, match="an address not in outbound_allow"):
        resolve("https://93.184.216.34/", parse_allow_list("10.0.0.0/8"))
    assert resolve("https://93.184.216.34/", parse_allow_list("10.0.0.0/8, public")).port == 443


def test_names_are_checked_after_resolution():
    # localhost is a name; the system resolver says loopback, which is refused.
    with pytest.raises(Refused, match="localhost resolves to a loopback address"):
        resolve("http://localhost:8080/hook", AllowList())
    with pytest.raises(Refused, match="localhost resolves to a loopback address"):
        resolve("http://LOCALHOST.:8080/hook", parse_allow_list("public"))
    # Admitted by name, by address, by address and port; not on another port.
    assert resolve("http://localhost:8080/", parse_allow_list("localhost")).address.is_loopback
    assert resolve("http://localhost:8080/", parse_allow_list("127.0.0.0/8")).address.is_loopback
    assert resolve("http://localhost:8080/", parse_allow_list("127.0.0.1:8080")).address.is_loopback
    with pytest.raises(Refused):
        resolve("http://localhost:8081/", parse_allow_list("127.0.0.1:8080"))
    with pytest.raises(Refused):
        resolve("http://localhost:8080/", parse_allow_list("*.localhost"))


def test_metadata_services_only_when_named_exactly():
    with pytest.raises(Refused, match=r"metadata\.google\.internal is a cloud metadata service"):
        resolve("http://metadata.google.internal/computeMetadata/v1/", parse_allow_list("public"))
    for allow in ("", "public", "169.254.0.0/16", "0.0.0.0/0"):
        with pytest.raises(Refused, match="cloud metadata"):
            resolve("http://169.254.169.254/latest/meta-data/", parse_allow_list(allow))
    with pytest.raises(Refused, match="cloud metadata"):
        resolve("http://[fd00:ec2::254]/latest/", parse_allow_list("fd00::/8"))
    assert resolve("http://169.254.169.254/x", parse_allow_list("169.254.169.254")).port == 80
    # A name admitted by the allow-list does not admit the metadata address it may resolve to.
    allow = parse_allow_list("hooks.internal")
    assert allow.admits("hooks.internal", 80, ipaddress.ip_address("10.1.2.3")) is None
    assert (
        allow.admits("hooks.internal", 80, ipaddress.ip_address("169.254.169.254"))
        == "a cloud metadata service"
    )
    assert (
        parse_allow_list("metadata.google.internal").admits(
            "metadata.google.internal", 80, ipaddress.ip_address("169.254.169.254")
        )
        is None
    )


@pytest.mark.parametrize(
    "text, says",
    [
        ("10.0.0.1/8", "has host bits set"),
        ("2130706433", "written oddly"),
        ("hooks.internal:http", "the port must be a number"),
        ("10.0.0.0/8:80", "takes no port"),
        ("hooks..internal", "not a host name"),
    ],
)
def test_allow_list_entries_it_cannot_read_are_errors(text, says):
    with pytest.raises(ValueError, match=says) as info:
        parse_allow_list(text)
    assert text in str(info.value)


def test_masking_hides_userinfo_and_query_values():
    assert mask_url("https://u:pw@hooks.example.com:8443/p?token=abc&x=1") == (
        "https://***@hooks.example.com:8443/p?token=***&x=***"
    )
    assert mask_url("https://hooks.example.com/p") == "https://hooks.example.com/p"
    assert mask_urls("bad URL https://u:pw@h.example.com/?k=v (twice)") == (
        "bad URL https://***@h.example.com/?k=*** (twice)"
    )


# --- deliveries to the test server on loopback ---


def envelope(url: str, key: str = "k-1") -> Envelope:
    return Envelope(1, key, url, None, {"url": url, "body": {"event": key}})


@contextmanager
def channels(allow: str = "", in_app_url: str = "", timeout: float = 5.0):
    http = HttpConfig(SECRET, timeout, allow=parse_allow_list(allow))
    with ExitStack() as stack:
        yield {
            OutboxChannel.WEBHOOK: stack.enter_context(WebhookChannel(http)),
            OutboxChannel.IN_APP: stack.enter_context(InAppChannel(http, in_app_url)),
        }


def test_loopback_is_refused_by_default_and_goes_once_allowed(engine, http_server):
    put(engine, webhook("to-loopback", http_server.url("/hook")))
    with channels() as chans:
        report = run(engine, chans)
    row = outbox(engine)["to-loopback"]
    assert (report.dead, row.status, row.attempts) == (1, OutboxStatus.DEAD, 1)
    assert (
        row.last_error == "destination refused: 127.0.0.1 is a loopback address: refused (see outbound_allow)"
    )
    assert http_server.requests == []

    put(engine, webhook("allowed", http_server.url("/hook")))
    with channels("127.0.0.1") as chans:
        assert run(engine, chans).sent == 1
    assert outbox(engine)["allowed"].status == OutboxStatus.SENT
    assert [h["Webhook-Id"] for _, h, _ in http_server.to("/hook")] == ["allowed"]


def test_a_name_resolving_to_loopback_is_refused_and_admitted_by_name(engine, http_server):
    port = http_server.base.rsplit(":", 1)[1]
    url = f"http://localhost:{port}/by-name"
    put(engine, webhook("by-name", url))
    with channels("public") as chans:
        assert run(engine, chans).dead == 1
    assert outbox(engine)["by-name"].last_error.startswith(
        "destination refused: localhost resolves to a loopback"
    )
    assert http_server.requests == []

    put(engine, webhook("named", url))
    with channels(f"localhost:{port}") as chans:
        assert run(engine, chans).sent == 1
    ((_, headers, _),) = http_server.to("/by-name")
    # Sent to the address checked, with the name the URL gave in Host.
    assert headers["Host"] == f"localhost:{port}"


@pytest.mark.parametrize(
    "host", ["2130706433", "0x7f000001", "0x7f.0.0.1", "0177.0.0.1", "127.1", "[::ffff:127.0.0.1]", "[::1]"]
)
def test_other_spellings_of_loopback_are_refused_at_delivery_even_where_127_0_0_1_is_allowed(
    http_server, host
):
    """Enqueue refuses them already; a message put in by other means (or
    before this check) is refused when it would go."""
    port = http_server.base.rsplit(":", 1)[1]
    with channels() as chans:
        outcome = chans[OutboxChannel.WEBHOOK].send(envelope(f"http://{host}:{port}/odd"), NOW)
    assert outcome.kind == "dead" and outcome.reason.startswith("destination refused: ")
    with channels("127.0.0.1") as chans:
        outcome = chans[OutboxChannel.WEBHOOK].send(envelope(f"http://{host}:{port}/odd"), NOW)
    if host == "[::ffff:127.0.0.1]":  # the same address, in IPv6 clothes: admitted as 127.0.0.1
        assert outcome.kind == "sent"
    else:
        assert outcome.kind == "dead", (host, outcome)
    assert len(http_server.to("/odd")) == (1 if host == "[::ffff:127.0.0.1]" else 0)


@pytest.mark.parametrize(
    "url, says",
    [
        ("http://2130706433/hook", "an IP address written oddly"),
        ("https://user:pw@hooks.example.com/hook", "credentials in a URL are refused"),
        ("gopher://hooks.example.com/", "only http:// and https:// URLs"),
    ],
)
def test_enqueue_refuses_what_no_allow_list_admits(session, url, says):
    with pytest.raises(BadInput, match=says) as info:
        enqueue(
            session,
            channel=OutboxChannel.WEBHOOK,
            idempotency_key="k",
            recipient="",
            subject=None,
            payload={"url": url, "body": {}},
            now=NOW,
        )
    assert "pw" not in info.value.message


def test_an_in_app_endpoint_the_allow_list_refuses_holds_its_messages(engine, http_server):
    put(engine, NewMessage(OutboxChannel.IN_APP, "nudge", "ann@acme.example", "Hi", {"message": "hello"}))
    with channels(in_app_url=http_server.url("/inapp")) as chans:
        report = run(engine, chans)
    row = outbox(engine)["nudge"]
    assert (report.held, row.status, row.attempts) == (1, OutboxStatus.HELD, 0)
    assert row.held_reason == (
        "in_app_url: destination refused: 127.0.0.1 is a loopback address: refused (see outbound_allow)"
    )
    with channels("127.0.0.1", in_app_url=http_server.url("/inapp")) as chans:
        assert run(engine, chans, at=NOW + dt.timedelta(minutes=5)).sent == 1
    assert len(http_server.to("/inapp")) == 1


@contextmanager
def _listener(behaviour: str):
    """A port on loopback: `closed` (nothing listens), `silent` (takes the
    connection, never answers), `reset` (takes it and closes it at once)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    if behaviour == "closed":
        listener.close()
        yield port
        return
    listener.listen(8)
    stop = threading.Event()

    def serve() -> None:
        held = []
        listener.settimeout(0.05)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            if behaviour == "reset":
                conn.recv(65536)
                conn.close()
            else:
                held.append(conn)
        for conn in held:
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield port
    finally:
        stop.set()
        thread.join()
        listener.close()


def test_refused_timed_out_reset_and_an_error_answer_give_one_message(engine, http_server):
    """Whatever happened at the other end, the row says the same: it must not
    tell a closed port from an open one."""
    http_server.script = {"/boom": [500]}
    server_port = int(http_server.base.rsplit(":", 1)[1])
    with _listener("closed") as closed, _listener("silent") as silent, _listener("reset") as reset:
        ports = {"closed": closed, "silent": silent, "reset": reset, "answers-500": server_port}
        put(engine, *(webhook(name, f"http://127.0.0.1:{port}/boom") for name, port in ports.items()))
        with channels("127.0.0.1", timeout=0.5) as chans:
            report = run(engine, chans, rules=NO_RULES, policy=POLICY)
    assert report.failed == 4
    rows = outbox(engine)
    for name, port in ports.items():
        assert (rows[name].status, rows[name].attempts) == (OutboxStatus.FAILED, 1), name
        assert rows[name].last_error == f"could not deliver to 127.0.0.1:{port}", name
    assert report.reasons == {f"could not deliver to 127.0.0.1:{p}": 1 for p in ports.values()}
    assert len(http_server.to("/boom")) == 1
