"""`cs outbox`: deliver to real servers, list, show, retry; scopes and secrets."""

from __future__ import annotations

import csv
import io
import json

import sqlalchemy as sa

from cs_cli.db.engine import transaction
from cs_cli.db.models import Contact, Customer, OutboxMessage
from cs_cli.domain import OutboxChannel, OutboxStatus
from cs_cli.services.outbox.enqueue import NewMessage, enqueue_many

AT = "2026-11-28T12:00"


def _ids(engine, external_id: str) -> tuple[int, int | None]:
    with transaction(engine) as session:
        customer = session.scalar(sa.select(Customer.id).where(Customer.external_id == external_id))
        contact = session.scalar(sa.select(Contact.id).where(Contact.customer_id == customer))
        return customer, contact


def _enqueue(engine, *messages: NewMessage) -> None:
    import datetime as dt

    with transaction(engine) as session:
        enqueue_many(session, list(messages), now=dt.datetime(2026, 11, 28, 11, 0, tzinfo=dt.UTC))


def _rows(engine) -> dict[str, OutboxMessage]:
    with transaction(engine) as session:
        return {m.idempotency_key: m for m in session.scalars(sa.select(OutboxMessage))}


def test_deliver_list_show_and_retry(run_cli, engine, book, smtp_server, http_server):
    e1, carla = _ids(engine, "E-1")
    w1, _ = _ids(engine, "W-1")
    http_server.script = {"/gone": [404, 200]}
    _enqueue(
        engine,
        NewMessage(
            OutboxChannel.EMAIL,
            "welcome-e1",
            "carla@alpha.example",
            "Welcome to Alpha's onboarding",
            {"text": "Hi Carla", "html": "<p>Hi Carla</p>"},
            customer_id=e1,
            contact_id=carla,
        ),
        NewMessage(
            OutboxChannel.WEBHOOK,
            "hook-w1",
            "",
            None,
            {"url": http_server.url("/gone"), "body": {"event": "journey.exited"}},
            customer_id=w1,
        ),
        NewMessage(OutboxChannel.EMAIL, "no-such-user", "ghost@nowhere.example", "Hello", {"text": "Hi"}),
    )
    smtp_server.refuse = {"ghost@nowhere.example": "550 5.1.1 no such user"}
    env = {
        "CS_SMTP_HOST": "127.0.0.1",
        "CS_SMTP_PORT": str(smtp_server.port),
        "CS_SMTP_FROM": "cs@example.com",
        "CS_WEBHOOK_SECRET": "s3cret-key",
        "CS_QUIET_HOURS": "off",
        # The test HTTP server is on loopback, which the default refuses.
        "CS_OUTBOUND_ALLOW": "127.0.0.1",
    }
    where = http_server.base.removeprefix("http://")

    result = run_cli("outbox", "deliver", "--as-of", AT, env=env)
    assert result.exit_code == 0, result
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0] == "sent 1, failed 0, held 0, dead 2"
    assert "  1 x recipient refused: 550 5.1.1 no such user" in lines
    assert f"  1 x could not deliver to {where}" in lines
    assert [m["To"] for m in smtp_server.messages] == ["carla@alpha.example"]
    assert smtp_server.messages[0]["Message-ID"] == "<welcome-e1@example.com>"

    listed = json.loads(run_cli("outbox", "list", "--format", "json").stdout)
    assert {(r["idempotency_key"], r["status"], r["customer"]) for r in listed} == {
        ("welcome-e1", "sent", "E-1"),
        ("hook-w1", "dead", "W-1"),
        ("no-such-user", "dead", None),
    }
    dead = list(
        csv.DictReader(io.StringIO(run_cli("outbox", "list", "--status", "dead", "-f", "csv").stdout))
    )
    assert sorted(r["idempotency_key"] for r in dead) == ["hook-w1", "no-such-user"]
    assert {r["last_error"] for r in dead} >= {"recipient refused: 550 5.1.1 no such user"}
    table = run_cli("outbox", "list", "--customer", "E-1")
    assert "carla@alpha.example" in table.stdout and "hook-w1" not in table.stdout
    assert "1 message" in table.stderr
    hooks = run_cli("outbox", "list", "--channel", "webhook", "--format", "json")
    assert [r["idempotency_key"] for r in json.loads(hooks.stdout)] == ["hook-w1"]

    # A CSM sees the messages of their own customers only.
    mine = json.loads(run_cli("outbox", "list", "--format", "json", user="ana").stdout)
    assert [r["idempotency_key"] for r in mine] == ["welcome-e1"]
    assert run_cli("outbox", "list", "--customer", "W-1", user="ana").exit_code == 4

    hook_id = _rows(engine)["hook-w1"].id
    shown = run_cli("outbox", "show", str(hook_id))
    assert shown.exit_code == 0, shown
    assert f"could not deliver to {where}" in shown.stdout and "journey.exited" in shown.stdout
    detail = json.loads(run_cli("outbox", "show", str(hook_id), "--format", "json").stdout)
    assert detail["payload"]["body"] == {"event": "journey.exited"}
    assert detail["status"] == "dead" and detail["customer_name"] == "Delta Dynamics"
    assert run_cli("outbox", "show", "999999").exit_code == 4
    assert run_cli("outbox", "retry", str(hook_id), user="ana").exit_code == 4  # not her customer

    # Retry a dead message: due again now, with fresh attempts; it goes.
    retried = run_cli("outbox", "retry", str(hook_id))
    assert retried.exit_code == 0, retried
    assert "is due again (was dead after 1 attempt)" in retried.stderr
    row = _rows(engine)["hook-w1"]
    assert (row.status, row.attempts) == (OutboxStatus.PENDING, 0)
    result = run_cli("outbox", "deliver", env=env)
    assert result.stderr.splitlines()[0] == "sent 1, failed 0, held 0, dead 0"
    assert _rows(engine)["hook-w1"].status == OutboxStatus.SENT
    assert len(http_server.to("/gone")) == 2

    sent_id = _rows(engine)["welcome-e1"].id
    again = run_cli("outbox", "retry", str(sent_id))
    assert again.exit_code == 2 and "a retry would send it twice" in again.stderr
    assert len(smtp_server.messages) == 1

    # Delivering is for admins (and cron, acting as an admin or `system`).
    refused = run_cli("outbox", "deliver", user="ana", env=env)
    assert refused.exit_code == 3 and "delivering the outbox needs the admin role" in refused.stderr
    assert run_cli("outbox", "deliver", "--as-of", "tomorrow").exit_code == 2


def test_secrets_are_never_printed(run_cli, tmp_path):
    password_file = tmp_path / "smtp-password"
    password_file.write_text("pw-from-file\n", encoding="utf-8")
    env = {
        "CS_SMTP_PASSWORD": "hunter2-smtp",
        "CS_SMTP_PASSWORD_FILE": str(password_file),
        "CS_WEBHOOK_SECRET": "whsec_c2VjcmV0LWtleQ==",
    }
    result = run_cli("config", "show", "--format", "json", env=env)
    assert result.exit_code == 0, result
    shown = {r["setting"]: r for r in json.loads(result.stdout)}
    assert (
        shown["smtp_password"]["value"] == "***"
        and shown["smtp_password"]["source"] == "env CS_SMTP_PASSWORD"
    )
    assert shown["webhook_secret"]["value"] == "***"
    assert shown["smtp_password_file"]["value"] == str(password_file)
    for secret in ("hunter2-smtp", "pw-from-file", "c2VjcmV0LWtleQ"):
        assert secret not in result.stdout + result.stderr
