"""The journey engine as a user drives it from the shell, on both dialects:
`cs enroll`, `cs journeys tick|enrollments|exit|simulate` and `cs events
emit`, with their exit codes and messages; delivery from the tick to a real
SMTP server and a real HTTP server that checks the signature; and journey
texts carrying sandbox-escape payloads refused at validate and load."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import sqlalchemy as sa

from cs_cli import paths
from cs_cli.channels.webhook import verify
from cs_cli.db.base import Base
from cs_cli.db.engine import transaction
from cs_cli.db.models import Customer, Journey, JourneyEnrollment, OutboxMessage
from cs_cli.domain import OutboxStatus

T0 = dt.datetime(2025, 1, 6, 9, 0, tzinfo=dt.UTC)


def at(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M")


def write(tmp_path, text: str, templates: dict[str, str] | None = None):
    folder = tmp_path / "my_journeys"
    emails = folder / "templates" / "emails"
    emails.mkdir(parents=True, exist_ok=True)
    for name, source in (templates or {}).items():
        (emails / name).write_text(source)
    key = text.split("key: ", 1)[1].split("\n", 1)[0]
    path = folder / f"{key}.yaml"
    path.write_text(text)
    return path


def load(run_cli, tmp_path, text: str, templates: dict[str, str] | None = None) -> None:
    result = run_cli("journeys", "load", str(write(tmp_path, text, templates)))
    assert result.exit_code == 0, result


def row_counts(engine) -> dict[str, int]:
    with transaction(engine) as s:
        return {
            t.name: s.scalar(sa.select(sa.func.count()).select_from(t)) for t in Base.metadata.sorted_tables
        }


def enrollment_ids(engine, key: str) -> dict[int, int]:
    with transaction(engine) as s:
        return dict(
            s.execute(
                sa.select(JourneyEnrollment.customer_id, JourneyEnrollment.id)
                .join(Journey, Journey.id == JourneyEnrollment.journey_id)
                .where(Journey.key == key)
            ).all()
        )


SLOW = """\
key: slow
duration_days: 10
max_concurrent_enrollments: 3
steps:
  - key: pause
    type: wait
    days: 3
    next: hold
  - key: hold
    type: wait
    days: 30
"""


def test_enroll_tick_enrollments_with_progress_and_exit(run_cli, engine, book, tmp_path):
    load(run_cli, tmp_path, SLOW)
    now = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    ago = lambda days: at(now - dt.timedelta(days=days))  # noqa: E731

    # Bad input first: nothing named, unknown journey or customer, more than the room.
    nothing = run_cli("enroll", "slow")
    assert (nothing.exit_code, nothing.stderr.splitlines()[0]) == (
        2,
        "error: name at least one customer, or --segment",
    )
    unknown = run_cli("enroll", "nope", "E-1")
    assert (unknown.exit_code, unknown.stderr.splitlines()[0]) == (4, "error: no journey 'nope'")
    stranger = run_cli("enroll", "slow", "E-1", "Z-9")
    assert (stranger.exit_code, stranger.stderr.splitlines()[0]) == (4, "error: no customer 'Z-9'")
    full = run_cli("enroll", "slow", "E-1", "E-3", "W-1", "M-1")
    assert full.exit_code == 2
    assert full.stderr.startswith(
        "error: journey 'slow' holds at most 3 active enrollments; it has room for 3, not 4\n"
    )
    assert row_counts(engine)["cs_journey_enrollments"] == 0

    # W-1 enrolled twelve days ago (behind: past the 10 days), E-1 a day ago
    # (on track), M-1 five days ago and never ticked since (stuck).
    enrolled = run_cli("enroll", "slow", "W-1", "--as-of", ago(12))
    assert enrolled.exit_code == 0, enrolled
    assert enrolled.stderr.splitlines()[0] == "enrolled 1 customer in slow: W-1"
    for moment in (ago(12), ago(9)):
        ticked = run_cli("journeys", "tick", "--as-of", moment, "--no-deliver")
        assert ticked.exit_code == 0, ticked
    assert ticked.stderr == (
        "advanced 1 enrollments (1 steps): 0 completed, 0 exited, 0 failed; 0 enrolled by triggers, "
        "0 woken; 0 messages queued\n"
    )
    assert run_cli("enroll", "slow", "E-1", "--as-of", ago(1)).exit_code == 0
    data = json.loads(
        run_cli("journeys", "tick", "--as-of", ago(1), "--no-deliver", "--format", "json").stdout
    )
    assert (data["advanced"], data["steps"], data["messages"]) == (1, 1, 0)
    again = json.loads(
        run_cli("journeys", "tick", "--as-of", ago(1), "--no-deliver", "--format", "json").stdout
    )
    assert (again["advanced"], again["steps"]) == (0, 0)
    assert run_cli("enroll", "slow", "M-1", "--as-of", ago(5)).exit_code == 0
    busy = run_cli("enroll", "slow", "M-1", "E-3")
    assert busy.exit_code == 2 and "it has room for 0, not 1" in busy.stderr  # M-1 is in it already

    rows = {
        r["customer"]: r for r in json.loads(run_cli("journeys", "enrollments", "slow", "-f", "json").stdout)
    }
    assert {c: (r["status"], r["step"], r["progress"]) for c, r in rows.items()} == {
        "E-1": ("active", "pause", "on track"),
        "W-1": ("active", "hold", "behind"),
        "M-1": ("active", "pause", "stuck"),
    }
    table = run_cli("journeys", "enrollments", "slow")
    assert "on track" in table.stdout and "behind" in table.stdout and "stuck" in table.stdout
    mine = json.loads(run_cli("journeys", "enrollments", "slow", "-f", "json", user="bo").stdout)
    assert [r["customer"] for r in mine] == ["W-1"]

    # Ending one by hand.
    w1 = rows["W-1"]["id"]
    assert run_cli("journeys", "exit", str(w1), user="ana").exit_code == 4  # not her customer
    ended = run_cli("journeys", "exit", str(w1), "--reason", "asked to stop")
    assert (ended.exit_code, ended.stderr) == (0, f"enrollment {w1} in slow exited\n")
    twice = run_cli("journeys", "exit", str(w1))
    assert (twice.exit_code, twice.stderr.splitlines()[0]) == (
        2,
        f"error: enrollment {w1} has already ended (exited)",
    )
    missing = run_cli("journeys", "exit", "999999")
    assert (missing.exit_code, missing.stderr.splitlines()[0]) == (4, "error: no enrollment 999999")
    gone = json.loads(run_cli("journeys", "enrollments", "slow", "--status", "exited", "-f", "json").stdout)
    assert [(r["customer"], r["success"], r["exit_reason"], r["progress"]) for r in gone] == [
        ("W-1", False, "asked to stop", "-")
    ]
    listed = {r["key"]: r for r in json.loads(run_cli("journeys", "list", "--format", "json").stdout)}
    assert (listed["slow"]["active_enrollments"], listed["slow"]["total_enrolled"]) == (2, 3)
    assert listed["slow"]["success_rate"] == 0.0
    # Exited, not run: a tick does nothing more for it.
    assert json.loads(run_cli("journeys", "tick", "--no-deliver", "-f", "json").stdout)["advanced"] == 1
    assert run_cli("journeys", "enrollments", "nope").exit_code == 4
    assert run_cli("journeys", "tick", "--no-deliver", user="ana").exit_code == 3


LISTEN = """\
key: listen
steps:
  - key: hear
    type: wait
    until_event: product.activated
    timeout_days: 5
    next: glad
  - key: glad
    type: exit
    success: true
"""


def test_cs_events_emit_wakes_a_wait_for_that_event(run_cli, book, tmp_path):
    load(run_cli, tmp_path, LISTEN)
    assert run_cli("enroll", "listen", "E-1", "W-1").exit_code == 0
    assert run_cli("journeys", "tick", "--no-deliver").exit_code == 0
    emitted = run_cli("events", "emit", "product.activated", "--customer", "E-1", "--data", '{"seats": 12}')
    assert emitted.exit_code == 0, emitted
    woken = run_cli("journeys", "tick", "--no-deliver")
    assert woken.stderr.startswith("advanced 1 enrollments (1 steps): 1 completed, 0 exited, 0 failed; ")
    assert "1 woken" in woken.stderr
    rows = {
        r["customer"]: r
        for r in json.loads(run_cli("journeys", "enrollments", "listen", "-f", "json").stdout)
    }
    assert (rows["E-1"]["status"], rows["E-1"]["success"]) == ("completed", True)
    assert (rows["W-1"]["status"], rows["W-1"]["step"]) == ("active", "hear")


def test_simulate_prints_the_path_renders_the_emails_and_keeps_nothing(run_cli, engine, book, tmp_path):
    assert run_cli("playbooks", "load").exit_code == 0
    for key in ("risk_mitigation", "onboarding"):
        assert run_cli("journeys", "load", str(paths.journeys_dir() / f"{key}.yaml")).exit_code == 0
    # A running enrollment of the customer stays as it is.
    assert run_cli("enroll", "onboarding", "E-1", "--as-of", at(T0)).exit_code == 0
    assert run_cli("journeys", "tick", "--as-of", at(T0), "--no-deliver").exit_code == 0
    before = row_counts(engine)
    e1 = sa.select(JourneyEnrollment).where(
        JourneyEnrollment.customer_id
        == sa.select(Customer.id).where(Customer.external_id == "E-1").scalar_subquery(),
        JourneyEnrollment.journey_id
        == sa.select(Journey.id).where(Journey.key == "onboarding").scalar_subquery(),
    )
    with transaction(engine) as s:
        enrollment = s.scalars(e1).one()
        kept = (enrollment.status, enrollment.current_step_id, enrollment.next_run_at, dict(enrollment.facts))

    result = run_cli("journeys", "simulate", "onboarding", "E-1", "--as-of", at(T0 + dt.timedelta(days=1)))
    assert result.exit_code == 0, result
    lines = result.stdout.splitlines()
    assert lines[0] == "E-1 in onboarding, from 2025-01-07 (nothing is kept)"
    assert lines[1] == (
        "  2025-01-07  welcome_email email -> queued to carla@alpha.example: Welcome aboard, Alpha Analytics"
    )
    assert lines[2] == "      | Hello Carla,"
    steps = [line.split()[1:3] for line in lines[1:] if line.startswith("  20")]
    assert steps[:5] == [
        ["welcome_email", "email"],
        ["wait_2_days", "wait"],
        ["kickoff_call", "task"],
        ["kickoff_complete", "condition"],
        ["reschedule_kickoff", "task"],
    ]
    # Waits pass with nothing happening: the task times out after 10 days.
    assert "  2025-01-09  kickoff_call task -> created" in lines
    assert "  2025-01-19  kickoff_complete condition -> no" in lines
    assert lines[-1].startswith("ends: completed (")
    assert row_counts(engine) == before
    with transaction(engine) as s:
        enrollment = s.scalars(e1).one()
        assert (
            enrollment.status,
            enrollment.current_step_id,
            enrollment.next_run_at,
            enrollment.facts,
        ) == kept

    data = json.loads(run_cli("journeys", "simulate", "onboarding", "E-1", "-f", "json").stdout)
    assert data["steps"][0]["detail"]["text"].startswith("Hello Carla,")
    assert row_counts(engine) == before
    assert run_cli("journeys", "simulate", "onboarding", "Z-9").exit_code == 4
    assert run_cli("journeys", "simulate", "nope", "E-1").exit_code == 4


HELLO = """\
key: hello
steps:
  - key: welcome
    type: email
    template: hello
    subject: "Welcome, {{{{ customer.name }}}}"
    next: notify
  - key: notify
    type: webhook
    url: {url}
    payload: {{source: cs}}
"""


def test_tick_delivers_email_over_smtp_and_a_signed_webhook_retried_after_a_500(
    run_cli, engine, book, tmp_path, smtp_server, http_server
):
    secret = "journey-signing-secret"
    env = {
        "CS_SMTP_HOST": "127.0.0.1",
        "CS_SMTP_PORT": str(smtp_server.port),
        "CS_SMTP_FROM": "cs@example.com",
        "CS_WEBHOOK_SECRET": secret,
        "CS_QUIET_HOURS": "off",
        # The test HTTP server is on loopback, which the default refuses.
        "CS_OUTBOUND_ALLOW": "127.0.0.1",
    }
    http_server.script = {"/hooks/journey": [500, 200]}
    load(
        run_cli,
        tmp_path,
        HELLO.format(url=http_server.url("/hooks/journey")),
        {
            "hello.txt.j2": "Hello {{ contact.first_name }},\nwelcome aboard.\n",
            "hello.html.j2": "<p>Hello {{ contact.first_name }}</p>",
        },
    )
    assert run_cli("enroll", "hello", "E-1", "--as-of", at(T0)).exit_code == 0
    result = run_cli("journeys", "tick", "--as-of", at(T0), env=env)
    assert result.exit_code == 0, result
    assert result.stderr == (
        "advanced 1 enrollments (2 steps): 1 completed, 0 exited, 0 failed; 0 enrolled by triggers, 0 woken; "
        "2 messages queued; sent 1, failed 1, held 0, dead 0\n"
    )
    (enrollment,) = enrollment_ids(engine, "hello").values()

    (email,) = smtp_server.messages
    assert (email["To"], email["Subject"]) == ("carla@alpha.example", "Welcome, Alpha Analytics")
    assert email["Message-ID"] == f"<journey-{enrollment}-welcome-1@example.com>"
    assert email.get_body(("plain",)).get_content().splitlines() == ["Hello Carla,", "welcome aboard."]
    assert email.get_body(("html",)).get_content().strip() == "<p>Hello Carla</p>"

    (first,) = http_server.to("/hooks/journey")
    _, headers, body = first
    assert verify(secret, headers, body, now=T0.timestamp())
    assert not verify("another-secret", headers, body, now=T0.timestamp())
    lower = {k.lower(): v for k, v in headers.items()}
    assert lower["webhook-id"] == f"journey-{enrollment}-notify-1"
    sent = json.loads(body)
    assert (sent["journey"], sent["step"], sent["enrollment_id"]) == ("hello", "notify", enrollment)
    assert (sent["customer"], sent["payload"]) == (
        {"external_id": "E-1", "name": "Alpha Analytics"},
        {"source": "cs"},
    )
    with transaction(engine) as s:
        hook = s.scalars(sa.select(OutboxMessage).where(OutboxMessage.channel == "webhook")).one()
        assert (hook.status, hook.attempts) == (OutboxStatus.FAILED, 1)
        assert hook.last_error == f"could not deliver to {http_server.base.removeprefix('http://')}"

    # The retry, after the backoff: the same id and body, signed again; the email is not sent twice.
    later = T0 + dt.timedelta(hours=1)
    retried = run_cli("outbox", "deliver", "--as-of", at(later), env=env)
    assert retried.exit_code == 0, retried
    assert retried.stderr.splitlines()[0] == "sent 1, failed 0, held 0, dead 0"
    assert len(http_server.to("/hooks/journey")) == 2
    _, headers2, body2 = http_server.to("/hooks/journey")[1]
    assert body2 == body and {k.lower(): v for k, v in headers2.items()}["webhook-id"] == lower["webhook-id"]
    assert verify(secret, headers2, body2, now=later.timestamp())
    assert len(smtp_server.messages) == 1
    # A tick at the same moment again queues and sends nothing.
    again = run_cli("journeys", "tick", "--as-of", at(T0), env=env)
    assert "advanced 0 enrollments" in again.stderr and len(smtp_server.messages) == 1
    with transaction(engine) as s:
        assert set(s.scalars(sa.select(OutboxMessage.status))) == {OutboxStatus.SENT}


PAYLOADS = [
    "{{ ''.__class__.__mro__ }}",
    "{{ cycler.__init__.__globals__ }}",
    "{{ '{0.__class__}'.format(customer) }}",
    "{{ customer|attr('__class__') }}",
    "{{ customer.name.__class__.__base__.__subclasses__() }}",
    "{% if false %}{{ joiner.__init__.__globals__.os }}{% endif %}",
    "{{ '%s'|format(customer.__class__) }}",
    "{{ self.__init__.__globals__ }}",
    "{{ lipsum.__globals__['os'] }}",
]

TEXTS = """\
key: hostile
steps:
  - key: mail
    type: email
    template: fine
    subject: {subject}
    next: banner
  - key: banner
    type: in_app_message
    title: {title}
    body: {body}
    next: ask
  - key: ask
    type: task
    title: {task}
    description: {description}
    next: meet
  - key: meet
    type: human_touchpoint
    prompt: {prompt}
    timeout_days: 3
"""
FIELDS = ("subject", "title", "body", "task", "description", "prompt")
STEP_OF = {"subject": 0, "title": 1, "body": 1, "task": 2, "description": 2, "prompt": 3}


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("payload", PAYLOADS)
def test_sandbox_escape_payloads_in_journey_texts_are_refused_at_validate_and_load(
    run_cli, tmp_path, payload
):
    # One file per text that carries the payload, and one whose email template does.
    folder = tmp_path / "hostile"
    emails = folder / "templates" / "emails"
    emails.mkdir(parents=True)
    (emails / "fine.txt.j2").write_text("Hi\n")
    (emails / "bad.txt.j2").write_text(payload + "\n")
    for field in FIELDS:
        texts = dict.fromkeys(FIELDS, "Hello")
        texts[field] = json.dumps(payload)
        (folder / f"in_{field}.yaml").write_text(
            TEXTS.format(**texts).replace("key: hostile", f"key: in_{field}")
        )
    plain = TEXTS.format(**dict.fromkeys(FIELDS, "Hello")).replace("template: fine", "template: bad")
    (folder / "in_template.yaml").write_text(plain.replace("key: hostile", "key: in_template"))

    for command in ("validate", "load"):
        result = run_cli("journeys", command, str(folder))
        assert (result.exit_code, result.stdout) == (2, ""), (command, result)
        errors = {line.split(":", 1)[0].rsplit("/", 1)[-1]: line for line in result.stderr.splitlines()[:-1]}
        assert set(errors) == {f"in_{field}.yaml" for field in (*FIELDS, "template")}, result.stderr
        for field in FIELDS:
            assert (
                f": steps.{STEP_OF[field]}.{'title' if field == 'task' else field}: "
                in errors[f"in_{field}.yaml"]
            )
        assert "steps.0.template: template emails/bad.txt.j2, line 1: " in errors["in_template.yaml"]
        for line in errors.values():
            assert "not allowed" in line or "unknown name" in line, line
    assert json.loads(run_cli("journeys", "list", "--format", "json").stdout) == []


CHECKUP = """\
key: checkup
steps:
  - key: score
    type: health_check
    rules:
      adoption_score: {gt: 90}
    then: high
    else: low
  - {key: high, type: exit, success: true}
  - {key: low, type: exit, success: false}
"""


def test_simulate_scores_with_the_scorecard_the_tick_uses(run_cli, engine, book, tmp_path):
    from pathlib import Path

    from cs_cli.db.models import UsageEvent

    scorecard = Path(__file__).parent.parent / "fixtures" / "simple_scorecard.yaml"
    env = {"CS_SCORECARD": str(scorecard)}
    with transaction(engine) as s:
        e1 = s.scalar(sa.select(Customer.id).where(Customer.external_id == "E-1"))
        s.add_all(
            UsageEvent(customer_id=e1, event_name="login", occurred_at=T0 - dt.timedelta(days=n))
            for n in range(8)
        )
    load(run_cli, tmp_path, CHECKUP)
    simulated = run_cli("journeys", "simulate", "checkup", "E-1", "--as-of", at(T0), env=env)
    assert simulated.exit_code == 0, simulated
    assert run_cli("enroll", "checkup", "E-1", "--as-of", at(T0)).exit_code == 0
    assert run_cli("journeys", "tick", "--as-of", at(T0), "--no-deliver", env=env).exit_code == 0
    (row,) = json.loads(run_cli("journeys", "enrollments", "checkup", "-f", "json").stdout)
    # By the simple scorecard, eight active days of ten make adoption 100.
    assert row["success"] is True
    assert "  2025-01-06  score health_check -> yes" in simulated.stdout.splitlines()
    assert simulated.stdout.splitlines()[-1] == "ends: completed (success): exit (success)"
