"""The tick's message steps on both dialects: email (rendered subject, text
and HTML into the outbox, to the contact, champion, sponsor or CSM, skipped
without an address), in-app message and webhook; a template that fails for
one enrollment fails that enrollment only; exactly once per visit."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from cs_cli.db.engine import transaction
from cs_cli.db.models import Customer, JourneyStepRun, OutboxMessage
from cs_cli.domain import CustomerStatus, OutboxChannel

T0 = dt.datetime(2025, 1, 6, 9, 0, tzinfo=dt.UTC)  # as the kit's

MAIL = """\
key: mail
steps:
  - key: hello
    type: email
    template: hello
    subject: "Hi {{ contact.first_name or 'there' }} at {{ customer.name }}"
    next: champ
  - key: champ
    type: email
    template: hello
    subject: "For the champion of {{ customer.name }}"
    to: champion
    next: sponsor
  - key: sponsor
    type: email
    template: hello
    subject: "For the sponsor"
    to: sponsor
    next: own_csm
  - key: own_csm
    type: email
    template: hello
    subject: "{{ customer.name }} started {{ journey.name }}"
    to: csm
"""


def test_email_renders_into_the_outbox_for_each_recipient_and_skips_without_an_address(kit, book):
    kit.template(
        "hello",
        "Hello {{ contact.first_name or 'there' }},\n{{ customer.name }} ({{ journey.key }}/{{ step.key }}, "
        "{{ enrollment.enrolled_on }}) from {{ csm.name }}\n",
        "<p>Hello <b>{{ customer.name }}</b></p>",
    )
    kit.load(MAIL)
    with transaction(kit.engine) as s:
        s.add(Customer(external_id="X-1", name="<b>Bold</b> & Co", status=CustomerStatus.ACTIVE))
    assert kit.enroll("mail", "E-1", "W-1", "U-1", "X-1").enrolled == ["E-1", "U-1", "W-1", "X-1"]

    result = kit.tick(T0)
    assert (result.advanced, result.completed, result.failed, result.messages) == (4, 4, 0, 5)
    assert result.steps == 16

    ids = {e.customer: e.id for e in kit.enrollments("mail").values()}
    out = kit.outbox()
    e1 = ids["E-1"]
    assert {k: (m.channel, m.recipient, m.subject) for k, m in out.items()} == {
        # The enrollment has no contact of its own: "contact" is the champion.
        f"journey-{e1}-hello-1": (OutboxChannel.EMAIL, "carla@alpha.example", "Hi Carla at Alpha Analytics"),
        f"journey-{e1}-champ-1": (
            OutboxChannel.EMAIL,
            "carla@alpha.example",
            "For the champion of Alpha Analytics",
        ),
        f"journey-{e1}-sponsor-1": (OutboxChannel.EMAIL, "ed@alpha.example", "For the sponsor"),
        f"journey-{e1}-own_csm-1": (OutboxChannel.EMAIL, "ana@example.com", "Alpha Analytics started Mail"),
        f"journey-{ids['W-1']}-own_csm-1": (
            OutboxChannel.EMAIL,
            "bo@example.com",
            "Delta Dynamics started Mail",
        ),
    }
    hello = out[f"journey-{e1}-hello-1"]
    assert hello.payload == {
        "text": "Hello Carla,\nAlpha Analytics (mail/hello, 2025-01-06) from Ana\n",
        "html": "<p>Hello <b>Alpha Analytics</b></p>",
    }
    assert hello.customer_id == kit.customer_id("E-1") and hello.contact_id is not None
    assert out[f"journey-{e1}-own_csm-1"].payload["text"].startswith("Hello Ana,\n")

    # Nobody to write to: skipped with the reason, and the enrollment goes on to its end.
    enrollments = kit.enrollments("mail")
    for ext in ("W-1", "U-1", "X-1"):
        assert enrollments[ext].status == "completed"
    assert [n["text"] for n in enrollments["U-1"].facts["notes"]] == [
        "hello: not sent, no contact with an email address",
        "champ: not sent, no champion with an email address",
        "sponsor: not sent, no sponsor with an email address",
        "own_csm: not sent, no csm with an email address",
    ]
    assert [o for ext, _, _, o in kit.runs("mail") if ext == "W-1"] == ["skipped"] * 3 + ["queued"]
    # No goal: completed with no success either way.
    assert (enrollments["E-1"].status, enrollments["E-1"].success) == ("completed", None)
    assert enrollments["E-1"].exit_reason == "reached the end of the journey"

    steps = kit.steps("mail")
    assert (steps["hello"].times_executed, steps["hello"].success_count) == (4, 1)
    assert (steps["own_csm"].times_executed, steps["own_csm"].success_count) == (4, 2)
    journey = kit.journey("mail")
    assert (journey.total_enrolled, journey.total_completed) == (4, 4)
    assert journey.avg_completion_days == 0

    # Exactly once: a second tick at the same moment does nothing.
    again = kit.tick(T0)
    assert (again.advanced, again.steps, again.messages) == (0, 0, 0)
    assert len(kit.outbox()) == 5 and kit.count(JourneyStepRun) == 16


def test_the_html_part_escapes_customer_data(kit, book):
    kit.template("hello", "Hi {{ customer.name }}\n", "<p>{{ customer.name }}</p>")
    kit.load(MAIL.replace("    next: champ\n", "").split("  - key: champ")[0])
    with transaction(kit.engine) as s:
        s.add(Customer(external_id="X-1", name="<b>Bold</b> & Co", status=CustomerStatus.ACTIVE))
        s.flush()
        from cs_cli.db.models import Contact

        s.add(
            Contact(
                customer_id=s.scalar(sa.select(Customer.id).where(Customer.external_id == "X-1")),
                name="Xi",
                email="xi@bold.example",
                is_champion=True,
            )
        )
    kit.enroll("mail", "X-1")
    kit.tick(T0)
    (message,) = kit.outbox().values()
    assert message.payload["text"] == "Hi <b>Bold</b> & Co\n"
    assert message.payload["html"] == "<p>&lt;b&gt;Bold&lt;/b&gt; &amp; Co</p>"


IN_APP_AND_HOOK = """\
key: nudge
steps:
  - key: banner
    type: in_app_message
    title: "Welcome, {{ customer.name }}"
    body: "{{ contact.first_name }}, your CSM is {{ csm.name }}."
    url: /onboarding
    next: notify
  - key: notify
    type: webhook
    url: https://crm.example.com/hooks/cs
    timeout_seconds: 5
    payload: {source: cs, kind: nudge}
"""


def test_in_app_message_and_webhook_are_outbox_messages_on_their_channels(kit, book):
    kit.load(IN_APP_AND_HOOK)
    kit.enroll("nudge", "E-1", "W-1")
    result = kit.tick(T0)
    assert (result.completed, result.messages) == (2, 3)
    ids = {e.customer: e.id for e in kit.enrollments("nudge").values()}
    out = kit.outbox()
    banner = out[f"journey-{ids['E-1']}-banner-1"]
    assert (banner.channel, banner.recipient, banner.subject) == (
        OutboxChannel.IN_APP,
        "carla@alpha.example",
        "Welcome, Alpha Analytics",
    )
    assert banner.payload == {
        "message": {
            "title": "Welcome, Alpha Analytics",
            "body": "Carla, your CSM is Ana.",
            "url": "/onboarding",
        },
        "customer": "E-1",
        "journey": "nudge",
        "step": "banner",
    }
    # W-1 has no contact: no in-app message, but the webhook still goes.
    assert f"journey-{ids['W-1']}-banner-1" not in out
    hook = out[f"journey-{ids['W-1']}-notify-1"]
    assert (hook.channel, hook.recipient) == (OutboxChannel.WEBHOOK, "https://crm.example.com/hooks/cs")
    body = hook.payload["body"]
    assert (hook.payload["url"], hook.payload["timeout"]) == ("https://crm.example.com/hooks/cs", 5.0)
    assert body | {"occurred_at": None} == {
        "type": "journey.step",
        "id": f"journey-{ids['W-1']}-notify-1",
        "journey": "nudge",
        "step": "notify",
        "enrollment_id": ids["W-1"],
        "customer": {"external_id": "W-1", "name": "Delta Dynamics"},
        "occurred_at": None,
        "payload": {"source": "cs", "kind": "nudge"},
    }
    assert body["occurred_at"].startswith("2025-01-06T09:00:00")


BRITTLE = """\
key: brittle
steps:
  - key: per_seat
    type: email
    template: per_seat
    subject: "{{ customer.name }}: {{ (customer.arr / customer.seats) | round }} per seat"
    next: after
  - key: after
    type: task
    title: "Follow up with {{ customer.name }}"
"""


def test_a_template_that_fails_for_one_enrollment_fails_it_alone(kit, book):
    # Renders for the sample customer (validate passes), not for one without seats.
    kit.template("per_seat", "Hello {{ contact.first_name or 'there' }}\n")
    kit.load(BRITTLE)
    with transaction(kit.engine) as s:
        s.add(Customer(external_id="X-1", name="No Seats", arr=1000, status=CustomerStatus.ACTIVE))
        s.flush()
        from cs_cli.db.models import Contact

        s.add_all(
            [
                Contact(customer_id=c, name="Pat", email=f"pat{c}@x.example", is_champion=True)
                for c in s.scalars(sa.select(Customer.id).where(Customer.external_id.in_(["X-1", "M-1"])))
            ]
        )
    kit.enroll("brittle", "E-1", "X-1", "M-1")
    result = kit.tick(T0)
    assert (result.advanced, result.completed, result.failed) == (3, 2, 1)
    enrollments = kit.enrollments("brittle")
    failed = enrollments["X-1"]
    assert (failed.status, failed.success) == ("failed", False)
    assert failed.exit_reason.startswith("step per_seat: ") and "TypeError" in failed.exit_reason
    assert failed.next_run_at is None
    assert [e.status for k, e in sorted(enrollments.items()) if k != "X-1"] == ["completed", "completed"]
    assert {m.recipient for m in kit.outbox().values()} == {
        "carla@alpha.example",
        f"pat{kit.customer_id('M-1')}@x.example",
    }
    assert sorted(t.title for t in kit.tasks()) == [
        "Follow up with Alpha Analytics",
        "Follow up with Mia Media",
    ]
    assert ("X-1", "per_seat", 1, "failed") in kit.runs("brittle")
    with transaction(kit.engine) as s:
        error = s.scalar(sa.select(JourneyStepRun.error).where(JourneyStepRun.outcome == "failed"))
    assert "TypeError" in error
    assert kit.count(OutboxMessage) == 2
    journey = kit.journey("brittle")
    assert (journey.total_completed, journey.success_rate) == (2, 0.0)
