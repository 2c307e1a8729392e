"""Outbound safety as a user meets it: a journey with credentials in its
webhook URL refused at validate and load with file:line:column, secrets in
URLs never shown by `cs outbox list|show`, one message on stderr whatever
the receiving end did, and the allow-list setting read and shown."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
import sqlalchemy as sa

from cs_cli.db.engine import transaction
from cs_cli.db.models import Customer, OutboxMessage
from cs_cli.domain import OutboxChannel, OutboxStatus
from cs_cli.services.outbox.enqueue import NewMessage, enqueue_many

from ..unit.test_outbound import _listener

AT = "2026-11-28T12:00"
JOURNEY = """\
key: tell_crm
name: Tell the CRM
steps:
  - key: notify
    type: webhook
    url: {url}
    payload: {{source: cs}}
"""


@pytest.mark.parametrize("db_url", ["sqlite", "postgres"], indirect=True)
def test_credentials_in_a_webhook_url_are_refused_at_validate_and_load_with_where(run_cli, tmp_path):
    folder = tmp_path / "journeys"
    folder.mkdir()
    (folder / "tell_crm.yaml").write_text(JOURNEY.format(url="https://cs:hunter2@crm.example.com/hooks"))
    (folder / "odd.yaml").write_text(
        JOURNEY.format(url="http://2130706433/hooks").replace("key: tell_crm", "key: odd")
    )
    for command in ("validate", "load"):
        result = run_cli("journeys", command, str(folder))
        assert (result.exit_code, result.stdout) == (2, ""), (command, result)
        lines = result.stderr.splitlines()
        assert f"{folder / 'tell_crm.yaml'}:6:5: steps.0.url: " in result.stderr
        assert any(
            line.startswith(f"{folder / 'tell_crm.yaml'}:6:5: steps.0.url: ")
            and "credentials in a URL are refused: put the secret in a setting" in line
            for line in lines
        ), result.stderr
        assert any(
            line.startswith(f"{folder / 'odd.yaml'}:6:5: steps.0.url: ") and "written oddly" in line
            for line in lines
        ), result.stderr
        assert "hunter2" not in result.stderr
    assert json.loads(run_cli("journeys", "list", "--format", "json").stdout) == []


def test_outbox_listings_never_show_a_urls_password_or_query(run_cli, engine, book):
    """A message put in before URLs were checked (or by other means) keeps
    its URL; nobody sees its secrets, admins included."""
    url = "https://cs:hunter2@crm.example.com/hooks?token=s3cr3t-t0ken&team=emea"
    with transaction(engine) as session:
        w1 = session.scalar(sa.select(Customer.id).where(Customer.external_id == "W-1"))
        session.add(
            OutboxMessage(
                channel=OutboxChannel.WEBHOOK,
                idempotency_key="legacy-hook",
                status=OutboxStatus.DEAD,
                recipient=url,
                payload={"url": url, "body": {"event": "renewal"}},
                customer_id=w1,
                attempts=1,
                last_error=f"bad URL {url}: refused",
                next_attempt_at=None,
                created_at=dt.datetime(2026, 11, 28, 11, 0, tzinfo=dt.UTC),
            )
        )
    (message_id,) = [m.id for m in _rows(engine)]
    masked = "https://***@crm.example.com/hooks?token=***&team=***"
    outputs = {
        "list": run_cli("outbox", "list"),
        "list json": run_cli("outbox", "list", "--format", "json"),
        "list csv": run_cli("outbox", "list", "--format", "csv"),
        "show": run_cli("outbox", "show", str(message_id)),
        "show json": run_cli("outbox", "show", str(message_id), "--format", "json"),
        "as bo": run_cli("outbox", "show", str(message_id), "--format", "json", user="bo"),
    }
    for name, result in outputs.items():
        assert result.exit_code == 0, (name, result)
        for secret in ("hunter2", "s3cr3t-t0ken", "emea", "cs:"):
            assert secret not in result.stdout + result.stderr, (name, secret)
    (listed,) = json.loads(outputs["list json"].stdout)
    assert (listed["recipient"], listed["last_error"]) == (masked, f"bad URL {masked}: refused")
    (row,) = csv.DictReader(io.StringIO(outputs["list csv"].stdout))
    assert row["recipient"] == masked
    shown = json.loads(outputs["show json"].stdout)
    assert (shown["recipient"], shown["payload"]["url"]) == (masked, masked)
    assert shown["payload"]["body"] == {"event": "renewal"}
    # The stored row is as it was: masking is in what is shown.
    assert _rows(engine)[0].recipient == url


def test_deliver_says_the_same_for_a_closed_port_an_error_answer_and_a_timeout(
    run_cli, engine, book, http_server
):
    http_server.script = {"/boom": [500]}
    server = int(http_server.base.rsplit(":", 1)[1])
    env = {
        "CS_WEBHOOK_SECRET": "s3cret-key",
        "CS_WEBHOOK_TIMEOUT": "0.5",
        "CS_OUTBOUND_ALLOW": "127.0.0.1",
    }
    with _listener("closed") as closed, _listener("silent") as silent:
        ports = {"closed": closed, "answers-500": server, "silent": silent}
        with transaction(engine) as session:
            enqueue_many(
                session,
                [
                    NewMessage(
                        OutboxChannel.WEBHOOK, k, "", None, {"url": f"http://127.0.0.1:{p}/boom", "body": {}}
                    )
                    for k, p in ports.items()
                ],
                now=dt.datetime(2026, 11, 28, 11, 0, tzinfo=dt.UTC),
            )
        result = run_cli("outbox", "deliver", "--as-of", AT, env=env)
    assert result.exit_code == 0, result
    lines = result.stderr.splitlines()
    assert lines[0] == "sent 0, failed 3, held 0, dead 0"
    assert sorted(lines[1:]) == sorted(f"  1 x could not deliver to 127.0.0.1:{p}" for p in ports.values())
    for word in ("500", "refused", "timed out", "Internal Server Error"):
        assert word not in result.stderr
    rows = {m.idempotency_key: m for m in _rows(engine)}
    assert {k: rows[k].last_error for k in ports} == {
        k: f"could not deliver to 127.0.0.1:{p}" for k, p in ports.items()
    }
    assert len(http_server.to("/boom")) == 1


def test_deliver_with_debug_logs_what_the_row_leaves_out(run_cli, engine, book, http_server):
    http_server.script = {"/boom": [500]}
    with transaction(engine) as session:
        enqueue_many(
            session,
            [NewMessage(OutboxChannel.WEBHOOK, "k", "", None, {"url": http_server.url("/boom"), "body": {}})],
            now=dt.datetime(2026, 11, 28, 11, 0, tzinfo=dt.UTC),
        )
    env = {"CS_WEBHOOK_SECRET": "s3cret-key", "CS_OUTBOUND_ALLOW": "127.0.0.1"}
    result = run_cli("--debug", "outbox", "deliver", "--as-of", AT, env=env)
    assert result.exit_code == 0, result
    assert "debug: cs_cli.outbound: 127.0.0.1:" in result.stderr and "HTTP 500" in result.stderr
    assert _rows(engine)[0].last_error == f"could not deliver to {http_server.base.removeprefix('http://')}"


def test_loopback_is_refused_unless_the_setting_admits_it(run_cli, engine, book, http_server):
    with transaction(engine) as session:
        enqueue_many(
            session,
            [NewMessage(OutboxChannel.WEBHOOK, "k", "", None, {"url": http_server.url("/hook"), "body": {}})],
            now=dt.datetime(2026, 11, 28, 11, 0, tzinfo=dt.UTC),
        )
    env = {"CS_WEBHOOK_SECRET": "s3cret-key"}
    result = run_cli("outbox", "deliver", "--as-of", AT, env=env)
    assert result.stderr.splitlines() == [
        "sent 0, failed 0, held 0, dead 1",
        "  1 x destination refused: 127.0.0.1 is a loopback address: refused (see outbound_allow)",
    ]
    assert http_server.requests == []
    (row,) = _rows(engine)
    assert run_cli("outbox", "retry", str(row.id)).exit_code == 0
    allowed = run_cli("outbox", "deliver", env={**env, "CS_OUTBOUND_ALLOW": "127.0.0.1"})  # due now
    assert allowed.stderr.splitlines() == ["sent 1, failed 0, held 0, dead 0"]
    assert len(http_server.to("/hook")) == 1


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_setting_is_shown_and_checked(run_cli):
    shown = run_cli("config", "show", "--format", "json", env={"CS_OUTBOUND_ALLOW": "hooks.internal, public"})
    assert shown.exit_code == 0, shown
    (row,) = [r for r in json.loads(shown.stdout) if r["setting"] == "outbound_allow"]
    assert (row["value"], row["source"]) == ("hooks.internal, public", "env CS_OUTBOUND_ALLOW")

    bad = run_cli("config", "show", env={"CS_OUTBOUND_ALLOW": "10.0.0.1/8"})
    assert bad.exit_code == 2 and "CS_OUTBOUND_ALLOW: 'outbound_allow' entry '10.0.0.1/8'" in bad.stderr
    creds = run_cli("config", "show", env={"CS_IN_APP_URL": "https://app:hunter2@app.example.com/inbox"})
    assert creds.exit_code == 2 and "credentials in a URL are refused" in creds.stderr
    assert "hunter2" not in creds.stderr


def _rows(engine) -> list[OutboxMessage]:
    with transaction(engine) as session:
        return list(session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)))
