"""The outbox and its channels, against real servers: an SMTP server
(aiosmtpd) and an HTTP server in this process receive what is delivered, and
the tests read what they received."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
import re
import socket
import threading
from collections import Counter
from contextlib import ExitStack, contextmanager
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from cs_cli.channels.email import SmtpChannel, SmtpConfig, message_id
from cs_cli.channels.in_app import InAppChannel
from cs_cli.channels.webhook import HttpConfig, WebhookChannel, classify, sign, verify
from cs_cli.db.engine import transaction
from cs_cli.db.models import Contact, Customer, OutboxMessage
from cs_cli.domain import OutboxChannel, OutboxStatus
from cs_cli.domain.outbound import parse_allow_list
from cs_cli.errors import BadInput
from cs_cli.services.outbox.deliver import deliver
from cs_cli.services.outbox.enqueue import NewMessage, enqueue, enqueue_many
from cs_cli.services.outbox.rules import DeliveryRules, RetryPolicy, cap_frees_at, quiet_until

NOW = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)
SECRET = "test-signing-secret"
SENDER = "Customer Success <cs@example.com>"
NO_RULES = DeliveryRules()
POLICY = RetryPolicy(max_attempts=3, base=dt.timedelta(minutes=1), cap=dt.timedelta(minutes=10))
EMAIL, WEBHOOK, IN_APP = OutboxChannel.EMAIL, OutboxChannel.WEBHOOK, OutboxChannel.IN_APP
# The test HTTP server is on loopback, which the default refuses: admit it.
LOCAL = parse_allow_list("127.0.0.1")


@contextmanager
def channels(smtp_port: int = 1, *, in_app_url: str = "", timeout: float = 5.0):
    smtp = SmtpConfig("127.0.0.1", smtp_port, "none", "", "", SENDER, timeout)
    http = HttpConfig(SECRET, timeout, allow=LOCAL)
    with ExitStack() as stack:
        yield {
            EMAIL: stack.enter_context(SmtpChannel(smtp)),
            WEBHOOK: stack.enter_context(WebhookChannel(http)),
            IN_APP: stack.enter_context(InAppChannel(http, in_app_url)),
        }


def run(engine, chans, at=NOW, rules=NO_RULES, policy=POLICY, **kw):
    return deliver(engine, chans, rules=rules, policy=policy, now=at, rng=random.Random(7), **kw)


def email(key, to, subject="Welcome aboard", **kw):
    payload = {
        "text": f"Hello {to}, plain text.",
        "html": f"<p>Hello <b>{to}</b></p>",
        **kw.pop("payload", {}),
    }
    return NewMessage(EMAIL, key, to, subject, payload, **kw)


def webhook(key, url, body=None):
    return NewMessage(WEBHOOK, key, "", None, {"url": url, "body": body or {"event": key}})


def put(engine, *messages, at=NOW):
    with transaction(engine) as session:
        return enqueue_many(session, list(messages), now=at)


def outbox(engine) -> dict[str, OutboxMessage]:
    with transaction(engine) as session:
        return {m.idempotency_key: m for m in session.scalars(sa.select(OutboxMessage))}


def people(engine) -> dict[str, int]:
    """A customer in New York with a contact in Tokyo and one without a zone."""
    with transaction(engine) as session:
        customer = Customer(external_id="C-1", name="Acme", timezone="America/New_York")
        session.add(customer)
        session.flush()
        tokyo = Contact(customer_id=customer.id, name="Kei", email="kei@acme.example", timezone="Asia/Tokyo")
        local = Contact(customer_id=customer.id, name="Dana", email="dana@acme.example")
        session.add_all([tokyo, local])
        session.flush()
        return {"customer": customer.id, "tokyo": tokyo.id, "local": local.id}


def test_email_goes_out_with_both_parts_its_headers_and_the_key_as_message_id(engine, smtp_server):
    ids = people(engine)
    with transaction(engine) as session:
        first = enqueue(
            session,
            channel=EMAIL,
            idempotency_key="enr-7.welcome.1",
            recipient="Dana@Acme.example",
            subject="Welcome, Dana",
            payload={
                "text": "Plain hello",
                "html": "<p>HTML hello</p>",
                "headers": {"X-Journey": "onboarding"},
            },
            customer_id=ids["customer"],
            contact_id=ids["local"],
            now=NOW,
        )
        other = enqueue(
            session,
            channel=EMAIL,
            idempotency_key="journey:onboarding/enr:8/step:welcome",
            recipient="kei@acme.example",
            subject="Welcome, Kei",
            payload={"text": "Only text"},
            now=NOW,
        )
    with transaction(engine) as session:
        again = enqueue(
            session,
            channel=EMAIL,
            idempotency_key="enr-7.welcome.1",
            recipient="someone-else@acme.example",
            subject="Changed",
            payload={"text": "changed"},
            now=NOW,
        )
    assert first.created and other.created
    assert not again.created and again.id == first.id and again.status == OutboxStatus.PENDING

    with channels(smtp_server.port) as chans:
        report = run(engine, chans)
    assert (report.sent, report.failed, report.held, report.dead) == (2, 0, 0, 0)

    received = {m["To"]: m for m in smtp_server.messages}
    assert set(received) == {"dana@acme.example", "kei@acme.example"}
    dana = received["dana@acme.example"]
    assert dana["Subject"] == "Welcome, Dana"
    assert dana["From"] == SENDER
    assert dana["Message-ID"] == "<enr-7.welcome.1@example.com>"
    assert dana["X-Journey"] == "onboarding"
    assert dana["Date"] == "Sat, 28 Nov 2026 12:00:00 +0000"
    assert dana.get_content_type() == "multipart/alternative"
    assert dana.get_body(("plain",)).get_content().strip() == "Plain hello"
    assert dana.get_body(("html",)).get_content().strip() == "<p>HTML hello</p>"
    kei = received["kei@acme.example"]
    # A key that is no valid Message-ID left part travels as its digest.
    digest = hashlib.sha256(b"journey:onboarding/enr:8/step:welcome").hexdigest()[:40]
    assert kei["Message-ID"] == f"<h.{digest}@example.com>"
    assert kei.get_content_type() == "text/plain"

    rows = outbox(engine)
    assert len(rows) == 2
    sent = rows["enr-7.welcome.1"]
    assert (sent.status, sent.attempts, sent.sent_at, sent.next_attempt_at) == (
        OutboxStatus.SENT,
        1,
        NOW,
        None,
    )
    assert sent.recipient == "dana@acme.example" and sent.payload["headers"] == {"X-Journey": "onboarding"}

    # Nothing is due any more: a second run sends nothing twice.
    with channels(smtp_server.port) as chans:
        assert run(engine, chans, at=NOW + dt.timedelta(days=1)).attempted == 0
    assert len(smtp_server.messages) == 2


def test_names_subjects_and_bodies_beyond_ascii_arrive_intact(engine, smtp_server):
    body = "Bonjour Zoë,\n\nvoici le résumé de la semaine — 42 % d'adoption ✓\n"
    long_line = "<p>" + "données " * 200 + "</p>"  # one line over SMTP's 998 octets
    with transaction(engine) as session:
        enqueue_many(
            session,
            [
                email(
                    "k.utf8",
                    "zoe@acme.example",
                    subject="Votre semaine, Zoë — ça avance ✓",
                    payload={
                        "text": body,
                        "html": long_line,
                        "from": "Équipe Succès <succes@example.com>",
                        "headers": {"X-Campagne": "été ☀"},
                    },
                )
            ],
            now=NOW,
        )
    with channels(smtp_server.port) as chans:
        assert run(engine, chans).sent == 1
    (received,) = smtp_server.messages
    assert received["To"] == "zoe@acme.example"
    assert received["From"] == "Équipe Succès <succes@example.com>"
    assert received["Subject"] == "Votre semaine, Zoë — ça avance ✓"
    assert received["X-Campagne"] == "été ☀"
    assert received.get_body(("plain",)).get_content() == body
    assert received.get_body(("html",)).get_content().strip() == long_line


def test_a_run_sends_several_messages_at_once_each_exactly_once(engine, smtp_server):
    """With `connections` 4, four SMTP connections carry a batch; a slow
    server (50 ms a message) shows the sends overlapping."""
    with transaction(engine) as session:
        enqueue_many(session, [email(f"k.{n}", f"p{n}@acme.example") for n in range(24)], now=NOW)
    smtp_server.delay = 0.05
    with channels(smtp_server.port) as chans:
        report = run(engine, chans, connections=4, batch=10)
    assert (report.sent, report.failed, report.dead) == (24, 0, 0)
    assert sorted(m["To"] for m in smtp_server.messages) == sorted(f"p{n}@acme.example" for n in range(24))
    assert len(set(smtp_server.peers)) == 4
    assert {row.status for row in outbox(engine).values()} == {OutboxStatus.SENT}


@pytest.mark.parametrize(
    ("message", "says"),
    [
        (
            NewMessage(EMAIL, "k 1", "a@b.example", "Hi", {"text": "x"}),
            "printable ASCII characters without spaces",
        ),
        (NewMessage(EMAIL, "k1", "not-an-address", "Hi", {"text": "x"}), "not an email address"),
        (NewMessage(EMAIL, "k1", "a@b.example", None, {"text": "x"}), "needs a subject"),
        (NewMessage(EMAIL, "k1", "a@b.example", "Hi\r\nBcc: x@evil.example", {"text": "x"}), "line break"),
        (NewMessage(EMAIL, "k1", "a@b.example", "Hi", {"html": "<p>x</p>"}), "lacks text"),
        (
            NewMessage(EMAIL, "k1", "a@b.example", "Hi", {"text": "x", "htlm": "y"}),
            "unknown payload key 'htlm'",
        ),
        (
            NewMessage(EMAIL, "k1", "a@b.example", "Hi", {"text": "x", "headers": {"X-A": "1\nBcc: y"}}),
            "one line",
        ),
        (NewMessage(WEBHOOK, "k1", "", None, {"url": "ftp://x.example", "body": {}}), "http:// or https://"),
        (NewMessage(WEBHOOK, "k1", "", None, {"url": "https://x.example"}), "lacks body"),
        (NewMessage(WEBHOOK, "k1", "", None, {"url": "https://x.example", "body": {1, 2}}), "not JSON"),
        (NewMessage(IN_APP, "k1", "user-1", None, {"message": "a\x00b"}), "NUL"),
        (NewMessage(IN_APP, "k1", "", None, {"message": "hi"}), "no recipient"),
    ],
)
def test_what_could_never_be_sent_is_refused_when_enqueued(message, says):
    # Refused before the database is touched: no session is needed to see it.
    with pytest.raises(BadInput, match=re.escape(says)):
        enqueue_many(None, [message], now=NOW)  # type: ignore[arg-type]


def test_webhooks_are_signed_retried_after_a_500_and_dead_after_a_404(engine, http_server):
    http_server.script = {"/flaky": [500, 200], "/gone": [404], "/slow": [200]}
    http_server.delay = {"/slow": 2.0}
    put(
        engine,
        webhook("wh-ok", http_server.url("/ok"), {"event": "journey.completed", "customer": "C-1", "n": 1.5}),
        webhook("wh-flaky", http_server.url("/flaky")),
        webhook("wh-gone", http_server.url("/gone")),
        NewMessage(IN_APP, "ia-1", "user-7", "Your QBR", {"message": "Book your QBR", "link": "/qbr"}),
    )
    with channels(in_app_url=http_server.url("/inapp")) as chans:
        report = run(engine, chans)
    assert (report.sent, report.failed, report.dead) == (2, 1, 1)

    (_, headers, body) = http_server.to("/ok")[0]
    assert headers["Webhook-Id"] == "wh-ok"
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body) == {"event": "journey.completed", "customer": "C-1", "n": 1.5}
    assert verify(SECRET, headers, body, now=NOW.timestamp())
    assert not verify(SECRET, headers, body.replace(b"C-1", b"C-2"), now=NOW.timestamp())
    assert not verify("another-secret", headers, body, now=NOW.timestamp())
    assert not verify(SECRET, headers, body, now=NOW.timestamp() + 3600)  # a replay, an hour later

    (_, headers, body) = http_server.to("/inapp")[0]
    assert verify(SECRET, headers, body, now=NOW.timestamp()) and headers["Webhook-Id"] == "ia-1"
    assert json.loads(body) == {
        "id": "ia-1",
        "recipient": "user-7",
        "subject": "Your QBR",
        "customer_id": None,
        "contact_id": None,
        "message": {"message": "Book your QBR", "link": "/qbr"},
    }

    rows = outbox(engine)
    flaky, gone = rows["wh-flaky"], rows["wh-gone"]
    assert flaky.status == OutboxStatus.FAILED and flaky.attempts == 1
    # The answer's status stays out of the row: it would tell an open port from a closed one.
    where = http_server.base.removeprefix("http://")
    assert flaky.last_error == f"could not deliver to {where}"
    assert NOW + dt.timedelta(seconds=1) <= flaky.next_attempt_at <= NOW + dt.timedelta(minutes=1)
    assert gone.status == OutboxStatus.DEAD and gone.next_attempt_at is None
    assert gone.last_error == f"could not deliver to {where}"

    # Not due yet: nothing goes. Once due, it goes, under the same id.
    with channels() as chans:
        assert run(engine, chans, at=flaky.next_attempt_at - dt.timedelta(seconds=1)).attempted == 0
        assert run(engine, chans, at=flaky.next_attempt_at).sent == 1
    attempts = http_server.to("/flaky")
    assert len(attempts) == 2 and {h["Webhook-Id"] for _, h, _ in attempts} == {"wh-flaky"}
    assert outbox(engine)["wh-flaky"].status == OutboxStatus.SENT
    assert len(http_server.to("/gone")) == 1  # dead: never tried again

    # An endpoint that never answers in time is a failure to retry.
    put(engine, webhook("wh-slow", http_server.url("/slow")))
    with channels(timeout=0.3) as chans:
        assert run(engine, chans).failed == 1
    assert outbox(engine)["wh-slow"].last_error == f"could not deliver to {where}"


def test_smtp_refusals_and_outages_mark_the_message_and_the_others_still_go(engine, smtp_server, http_server):
    smtp_server.refuse = {
        "nobody@acme.example": "550 5.1.1 no such user",
        "busy@acme.example": "451 4.3.0 mailbox busy, try later",
    }
    put(
        engine,
        email("m-nobody", "nobody@acme.example"),
        email("m-busy", "busy@acme.example"),
        email("m-ok", "ok@acme.example"),
        webhook("w-1", http_server.url("/ok")),
    )
    with channels(smtp_server.port) as chans:
        report = run(engine, chans)
    assert (report.sent, report.failed, report.dead) == (2, 1, 1)
    rows = outbox(engine)
    assert rows["m-nobody"].status == OutboxStatus.DEAD
    assert rows["m-nobody"].last_error == "recipient refused: 550 5.1.1 no such user"
    assert rows["m-busy"].status == OutboxStatus.FAILED
    assert rows["m-busy"].last_error == "recipient refused: 451 4.3.0 mailbox busy, try later"
    assert [m["To"] for m in smtp_server.messages] == ["ok@acme.example"]
    assert report.reasons == {
        "recipient refused: 550 5.1.1 no such user": 1,
        "recipient refused: 451 4.3.0 mailbox busy, try later": 1,
    }

    # The SMTP server is down: every email fails with the reason, once per
    # run, and the webhook still goes.
    closed = _closed_port()
    put(engine, email("m-down", "ok@acme.example"), email("m-down-2", "x@acme.example"))
    put(engine, webhook("w-2", http_server.url("/ok")))
    with channels(closed) as chans:
        report = run(engine, chans)
    assert (report.sent, report.failed) == (1, 2)
    rows = outbox(engine)
    for key in ("m-down", "m-down-2"):
        assert rows[key].status == OutboxStatus.FAILED
        assert rows[key].last_error.startswith(f"cannot connect to SMTP server 127.0.0.1:{closed}: ")
    assert rows["w-2"].status == OutboxStatus.SENT

    # A server that takes the connection and never says a word: a timeout.
    with _silent_server() as port, channels(port, timeout=0.3) as chans:
        report = run(engine, chans, at=NOW + dt.timedelta(hours=1))
    assert report.failed == 3  # m-busy, m-down, m-down-2 were due again
    assert outbox(engine)["m-down"].last_error == f"cannot connect to SMTP server 127.0.0.1:{port}: timed out"


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def _silent_server():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield listener.getsockname()[1]


def test_retries_back_off_with_full_jitter_then_the_message_is_dead(engine, http_server):
    http_server.script = {"/down": [503]}
    put(engine, webhook("w-down", http_server.url("/down")))
    at = NOW
    with channels() as chans:
        for attempt, ceiling in ((1, 60), (2, 120)):
            assert run(engine, chans, at=at).failed == 1
            row = outbox(engine)["w-down"]
            assert (row.status, row.attempts) == (OutboxStatus.FAILED, attempt)
            assert at + dt.timedelta(seconds=1) <= row.next_attempt_at <= at + dt.timedelta(seconds=ceiling)
            at = row.next_attempt_at
        report = run(engine, chans, at=at)
    assert report.dead == 1
    row = outbox(engine)["w-down"]
    assert (row.status, row.attempts, row.next_attempt_at) == (OutboxStatus.DEAD, 3, None)
    assert row.last_error.startswith("could not deliver to 127.0.0.1:")
    assert row.last_error.endswith("(gave up after 3 attempts)")
    assert len(http_server.to("/down")) == 3


def test_backoff_is_full_jitter_under_a_growing_capped_ceiling():
    policy = RetryPolicy(max_attempts=20, base=dt.timedelta(seconds=30), cap=dt.timedelta(hours=1))
    rng = random.Random(3)
    for attempts in range(1, 16):
        ceiling = min(3600, 30 * 2 ** (attempts - 1))
        delays = [policy.delay(attempts, rng).total_seconds() for _ in range(200)]
        assert all(1 <= d <= ceiling for d in delays)
        # Spread over the whole range, not bunched at the ceiling.
        assert min(delays) < ceiling * 0.2 and max(delays) > ceiling * 0.8
    # Seeded, the same draws: tests and replays can rely on them.
    first = [policy.delay(4, random.Random(9)) for _ in range(3)]
    assert first == [policy.delay(4, random.Random(9)) for _ in range(3)]


def test_the_email_cap_holds_messages_until_the_period_frees_a_place(engine, smtp_server):
    rules = DeliveryRules(email_cap=2, email_cap_period=dt.timedelta(days=1))
    ids = people(engine)
    ann, bob = ids["local"], ids["tokyo"]
    put(
        engine,
        email("a-1", "ann@acme.example", contact_id=ann),
        email("a-2", "ann@acme.example", contact_id=ann),
        email("a-3", "Ann@Acme.example", contact_id=ann),
        email("b-1", "bob@acme.example", contact_id=bob),
        # Mail to the team's own people (no contact: an alert, a reminder) is not capped.
        email("team-1", "csm@vendor.example"),
        email("team-2", "csm@vendor.example"),
        email("team-3", "csm@vendor.example"),
    )
    with channels(smtp_server.port) as chans:
        report = run(engine, chans, rules=rules)
        assert (report.sent, report.held) == (6, 1)
        held = next(m for m in outbox(engine).values() if m.status == OutboxStatus.HELD)
        assert held.recipient == "ann@acme.example" and held.attempts == 0
        assert held.next_attempt_at == NOW + dt.timedelta(days=1)
        assert held.held_reason == (
            "email cap: 2 sent to this recipient within 1d; until 2026-11-29 12:00 UTC"
        )
        # Held, not dropped: it waits, and goes once the period frees a place.
        assert run(engine, chans, at=NOW + dt.timedelta(hours=23), rules=rules).attempted == 0
        report = run(engine, chans, at=NOW + dt.timedelta(days=1), rules=rules)
    assert report.sent == 1
    row = outbox(engine)[held.idempotency_key]
    assert (row.status, row.held_reason, row.attempts) == (OutboxStatus.SENT, None, 1)
    assert Counter(m["To"] for m in smtp_server.messages) == {
        "ann@acme.example": 3,
        "bob@acme.example": 1,
        "csm@vendor.example": 3,
    }


def test_quiet_hours_hold_messages_to_people_until_morning_in_their_time_zone(
    engine, smtp_server, http_server
):
    ids = people(engine)
    rules = DeliveryRules(quiet_hours=(dt.time(20), dt.time(8)), default_timezone="Europe/Paris")
    put(
        engine,
        # 12:00 UTC is 21:00 in Tokyo (the contact's zone): quiet until 08:00 there (23:00 UTC).
        email("tokyo", "kei@acme.example", contact_id=ids["tokyo"], customer_id=ids["customer"]),
        # The contact has no zone: the customer's, New York, 07:00: quiet until 08:00 (13:00 UTC).
        email("new-york", "dana@acme.example", contact_id=ids["local"], customer_id=ids["customer"]),
        NewMessage(IN_APP, "ia-ny", "dana", None, {"message": "hi"}, customer_id=ids["customer"]),
        # Neither: the default zone, Paris, 13:00: it goes.
        email("paris", "someone@elsewhere.example"),
        # Webhooks go to machines: no quiet hours.
        webhook("hook", http_server.url("/ok")),
    )
    with channels(smtp_server.port, in_app_url=http_server.url("/inapp")) as chans:
        report = run(engine, chans, rules=rules)
        assert (report.sent, report.held) == (2, 3)
        rows = outbox(engine)
        assert rows["tokyo"].next_attempt_at == dt.datetime(2026, 11, 28, 23, 0, tzinfo=dt.UTC)
        assert rows["tokyo"].held_reason == "quiet hours 20:00-08:00 Asia/Tokyo: until 2026-11-29 08:00 local"
        assert rows["new-york"].next_attempt_at == dt.datetime(2026, 11, 28, 13, 0, tzinfo=dt.UTC)
        assert rows["ia-ny"].next_attempt_at == dt.datetime(2026, 11, 28, 13, 0, tzinfo=dt.UTC)
        assert [m["To"] for m in smtp_server.messages] == ["someone@elsewhere.example"]

        report = run(engine, chans, at=dt.datetime(2026, 11, 28, 13, 0, tzinfo=dt.UTC), rules=rules)
        assert (report.sent, report.held) == (2, 0)
        report = run(engine, chans, at=dt.datetime(2026, 11, 28, 23, 0, tzinfo=dt.UTC), rules=rules)
        assert report.sent == 1
    assert {m.status for m in outbox(engine).values()} == {OutboxStatus.SENT}
    assert len(smtp_server.messages) == 3 and len(http_server.to("/inapp")) == 1


def test_deliverers_running_at_once_send_every_message_exactly_once(engine, smtp_server, http_server):
    rules = DeliveryRules(email_cap=5, email_cap_period=dt.timedelta(days=1))
    messages = [email(f"e-{n}", f"person{n}@acme.example") for n in range(300)]
    busy = people(engine)["local"]  # a customer's contact: the cap is for them
    messages += [email(f"busy-{n}", "busy@acme.example", contact_id=busy) for n in range(12)]
    messages += [webhook(f"w-{n}", http_server.url("/hooks")) for n in range(60)]
    random.Random(5).shuffle(messages)
    assert put(engine, *messages) == len(messages)
    reports = []

    def deliverer() -> None:
        with channels(smtp_server.port) as chans:
            reports.append(run(engine, chans, rules=rules, batch=15))

    threads = [threading.Thread(target=deliverer) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(reports) == 3

    received = Counter(smtp_server.message_ids())
    assert len(received) == 305 and set(received.values()) == {1}
    hooks = Counter(h["Webhook-Id"] for _, h, _ in http_server.to("/hooks"))
    assert len(hooks) == 60 and set(hooks.values()) == {1}
    # The cap holds across deliverers: five to the busy recipient, seven held.
    assert sum(1 for m in smtp_server.messages if m["To"] == "busy@acme.example") == 5
    assert sum(r.sent for r in reports) == 365 and sum(r.held for r in reports) == 7
    statuses = Counter(m.status for m in outbox(engine).values())
    assert statuses == {OutboxStatus.SENT: 365, OutboxStatus.HELD: 7}


@pytest.mark.parametrize(
    ("window", "local", "until"),
    [
        ((dt.time(20), dt.time(8)), "2026-11-28T21:30", "2026-11-29T08:00"),
        ((dt.time(20), dt.time(8)), "2026-11-28T06:15", "2026-11-28T08:00"),
        ((dt.time(20), dt.time(8)), "2026-11-28T08:00", None),
        ((dt.time(20), dt.time(8)), "2026-11-28T19:59", None),
        ((dt.time(12), dt.time(14)), "2026-11-28T13:00", "2026-11-28T14:00"),
        ((dt.time(12), dt.time(14)), "2026-11-28T14:00", None),
        # The night the clocks go forward in Paris: 08:00 is then UTC+2.
        ((dt.time(20), dt.time(8)), "2026-03-28T22:00", "2026-03-29T08:00"),
    ],
)
def test_quiet_until_the_end_of_the_local_window(window, local, until):
    paris = ZoneInfo("Europe/Paris")
    at = dt.datetime.fromisoformat(local).replace(tzinfo=paris)
    got = quiet_until(window, paris, at.astimezone(dt.UTC))
    if until is None:
        assert got is None
    else:
        assert got == dt.datetime.fromisoformat(until).replace(tzinfo=paris).astimezone(dt.UTC)
        assert got.tzinfo == dt.UTC


def test_cap_frees_a_place_when_the_cap_th_newest_send_leaves_the_period():
    day = dt.timedelta(days=1)
    sends = [NOW - dt.timedelta(hours=h) for h in (1, 5, 9)]  # newest first
    assert cap_frees_at(sends, 3, day) == NOW - dt.timedelta(hours=9) + day
    assert cap_frees_at(sends, 2, day) == NOW - dt.timedelta(hours=5) + day
    assert cap_frees_at(sends, 4, day) is None
    assert cap_frees_at(sends, 0, day) is None  # no cap


def test_message_id_is_the_key_where_it_can_be():
    assert message_id("enr-1.step-2", "cs@example.com") == "<enr-1.step-2@example.com>"
    assert message_id("enr-1.step-2", "CS <cs@mail.example.com>") == "<enr-1.step-2@mail.example.com>"
    for key in ("a..b", ".a", "a b", "a@b", "x" * 201, "a<b>"):
        assert message_id(key, "cs@example.com").startswith("<h.")


def test_signatures_follow_the_standard_webhooks_scheme():
    import base64
    import hmac

    body = b'{"a":1}'
    expected = base64.b64encode(hmac.new(b"k", b"id-1.1700000000." + body, hashlib.sha256).digest())
    assert sign("k", "id-1", 1700000000, body) == "v1," + expected.decode()
    # A secret written whsec_<base64> signs with the bytes it stands for.
    assert sign("whsec_" + base64.b64encode(b"k").decode(), "id-1", 1700000000, body) == sign(
        "k", "id-1", 1700000000, body
    )
    headers = {
        "webhook-id": "id-1",
        "webhook-timestamp": "1700000000",
        "webhook-signature": sign("k", "id-1", 1700000000, body),
    }
    assert verify("k", headers, body, now=1700000100)
    assert not verify("k", {**headers, "webhook-id": "id-2"}, body, now=1700000100)
    assert not verify("k", {}, body, now=1700000100)


@pytest.mark.parametrize(
    ("status", "headers", "kind", "after"),
    [
        (200, {}, "sent", None),
        (204, {}, "sent", None),
        (301, {"location": "https://elsewhere.example"}, "dead", None),
        (400, {}, "dead", None),
        (404, {}, "dead", None),
        (408, {}, "retry", None),
        (429, {"retry-after": "120"}, "retry", 120.0),
        (500, {}, "retry", None),
        (503, {"retry-after": "Sat, 28 Nov 2026 12:05:00 GMT"}, "retry", 300.0),
    ],
)
def test_http_answers_are_sent_retried_or_dead(status, headers, kind, after):
    outcome = classify(status, "Reason", "body text", headers, NOW)
    assert outcome.kind == kind and outcome.retry_after == after
    if kind != "sent":
        assert outcome.reason.startswith(f"HTTP {status} Reason")


def test_every_outbox_setting_is_documented():
    from pathlib import Path

    from cs_cli.settings import SPECS

    text = (Path(__file__).parent.parent.parent / "docs" / "outbox.md").read_text(encoding="utf-8")
    table = text.split("## Settings", 1)[1]
    prefixes = ("smtp_", "webhook_", "in_app_", "outbox_", "email_cap", "quiet_hours", "default_timezone")
    outbox_settings = [s for s in SPECS if s.name.startswith(prefixes)]
    assert len(outbox_settings) >= 18
    for spec in outbox_settings:
        assert f"| `{spec.name}` | `{spec.env}` |" in table, spec.name


@pytest.fixture
def certificate(tmp_path):
    """A self-signed certificate for 127.0.0.1 (made with the openssl tool)."""
    import shutil
    import subprocess

    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is not installed")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return key, cert


@pytest.mark.filterwarnings(
    "ignore:Requiring AUTH while not requiring TLS"
)  # aiosmtpd, about TLS from the start
@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_email_over_tls_logs_in_and_checks_the_certificate(certificate, security, monkeypatch):
    import ssl

    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    from cs_cli.channels import Envelope

    key, cert = certificate
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    logins = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        logins.append((auth_data.login, auth_data.password))
        # handled=False: aiosmtpd then answers 535 itself.
        return AuthResult(success=auth_data.password == b"right-password", handled=False)

    class Inbox:
        messages: list = []

        async def handle_DATA(self, server, session, envelope):
            self.messages.append(envelope.content)
            return "250 OK"

    inbox = Inbox()
    port = _closed_port()
    if security == "starttls":
        tls = {"tls_context": server_tls, "require_starttls": True}
    else:  # aiosmtpd does not count TLS from the start as TLS for AUTH
        tls = {"ssl_context": server_tls, "auth_require_tls": False}
    controller = Controller(
        inbox, hostname="127.0.0.1", port=port, authenticator=authenticator, auth_required=True, **tls
    )
    controller.start()
    envelope = Envelope(1, "tls-1", "ann@acme.example", "Over TLS", {"text": "secret plans"})

    def send(password: str):
        config = SmtpConfig("127.0.0.1", port, security, "cs-mailer", password, "cs@example.com", 5)
        with SmtpChannel(config) as channel:
            return channel.send(envelope, NOW)

    try:
        # Trusted (as a company CA would be, through SSL_CERT_FILE): a wrong
        # password is refused, the right one sends.
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))
        outcome = send("wrong-password")
        assert outcome.kind == "retry"
        assert outcome.reason.startswith(f"SMTP login to 127.0.0.1:{port} as cs-mailer refused: 535")
        assert "wrong-password" not in outcome.reason
        assert send("right-password").kind == "sent"
        # A certificate the system does not trust: no connection, no login.
        monkeypatch.delenv("SSL_CERT_FILE")
        outcome = send("right-password")
        assert outcome.kind == "retry" and "certificate verify failed" in outcome.reason
    finally:
        controller.stop()
    # (smtplib tries each mechanism the server offers before giving up.)
    assert {login for login, _ in logins} == {b"cs-mailer"}
    assert [password for _, password in logins][-1] == b"right-password"
    assert set(password for _, password in logins) == {b"wrong-password", b"right-password"}
    assert len(inbox.messages) == 1 and b"secret plans" in inbox.messages[0]


def test_a_deliverer_killed_mid_batch_loses_nothing_and_repeats_at_most_its_batch(
    engine, db_url, smtp_server
):
    import os
    import signal
    import subprocess
    import sys
    import time

    seed = random.randrange(10**6)
    kill_after = random.Random(seed).randint(1, 120)
    put(engine, *(email(f"k-{n}", f"person{n}@acme.example") for n in range(150)))
    smtp_server.delay = 0.01
    env = {
        **os.environ,
        "CS_DATABASE_URL": db_url,
        "CS_USER": "admin",
        "CS_CONFIG": "",
        "CS_SMTP_HOST": "127.0.0.1",
        "CS_SMTP_PORT": str(smtp_server.port),
        "CS_SMTP_FROM": SENDER,
        "CS_QUIET_HOURS": "off",
        "CS_EMAIL_CAP": "0",
    }
    command = [
        sys.executable,
        "-m",
        "cs_cli",
        "outbox",
        "deliver",
        "--batch",
        "20",
        "--as-of",
        NOW.isoformat(),
    ]
    deliverer = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while len(smtp_server.messages) < kill_after and deliverer.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)
    deliverer.send_signal(signal.SIGKILL)
    deliverer.wait()
    # Messages whose data the killed run had sent (several connections at
    # once) still land at the server: count them as received before the kill.
    time.sleep(0.2)
    smtp_server.delay = 0
    before = len(smtp_server.messages)

    # The next run takes over at once: the killed run's locks died with it.
    started = time.monotonic()
    with channels(smtp_server.port) as chans:
        report = run(engine, chans)
    assert time.monotonic() - started < 10
    received = Counter(smtp_server.message_ids())
    where = f"(seed {seed}: killed after {before} of 150 received)"
    assert len(received) == 150, where  # nothing lost
    assert sum(received.values()) - 150 <= 20, where  # repeats: at most the batch being sent
    # The killed run committed whole batches; the batch it was sending when
    # killed went again (at least once, same Message-IDs).
    committed = before - (sum(received.values()) - 150)
    assert committed % 20 == 0 and report.sent == 150 - committed, where
    assert {m.status for m in outbox(engine).values()} == {OutboxStatus.SENT}, where


def test_messages_held_for_missing_settings_never_go_dead_and_go_once_set(engine, smtp_server):
    """No From address, no signing key, no in-app URL: held with the setting
    named, attempts untouched however many runs pass; set, they go."""
    put(
        engine,
        email("welcome", "ann@acme.example"),
        webhook("ping", "http://127.0.0.1:1/hook"),
        NewMessage(IN_APP, "nudge", "ann@acme.example", "Hi", {"message": "hello"}),
    )
    unset = SmtpConfig("127.0.0.1", smtp_server.port, "none", "", "", "", 5.0)
    at = NOW
    for _ in range(POLICY.max_attempts + 3):
        with ExitStack() as stack:
            chans = {
                EMAIL: stack.enter_context(SmtpChannel(unset)),
                WEBHOOK: stack.enter_context(WebhookChannel(HttpConfig("", 5.0))),
                IN_APP: stack.enter_context(InAppChannel(HttpConfig("", 5.0), "")),
            }
            report = run(engine, chans, at=at)
        assert (report.sent, report.failed, report.held, report.dead) == (0, 0, 3, 0)
        at += dt.timedelta(minutes=5)
    rows = outbox(engine)
    assert {k: (m.status, m.attempts) for k, m in rows.items()} == {
        k: (OutboxStatus.HELD, 0) for k in ("welcome", "ping", "nudge")
    }
    assert rows["welcome"].held_reason == "no From address: set smtp_from (CS_SMTP_FROM)"
    assert rows["ping"].held_reason == "no signing key: set webhook_secret (CS_WEBHOOK_SECRET)"
    assert rows["nudge"].held_reason == "no in-app endpoint: set in_app_url (CS_IN_APP_URL)"
    assert smtp_server.messages == []

    with channels(smtp_server.port) as chans:
        report = run(engine, chans, at=at)
    assert report.sent == 1 and outbox(engine)["welcome"].attempts == 1
