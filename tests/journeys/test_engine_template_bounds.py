"""A template bomb in a journey fails its own message, with the reason, and
the tick goes on: the deadline every render runs against stops it."""

from __future__ import annotations

import time

import sqlalchemy as sa

from cs_cli.db.engine import transaction
from cs_cli.db.models import Contact, Customer, JourneyStepRun, OutboxMessage
from cs_cli.domain import CustomerStatus

BOMBED = """\
key: bombed
steps:
  - key: hello
    type: email
    template: hello
    subject: "Hi {{ customer.name }}"
    next: after
  - key: after
    type: task
    title: "Follow up with {{ customer.name }}"
"""

# Behind an `if` the sample customer does not take, so `load` passes it; a
# text doubled 60 times over is more than any memory.
HELLO = (
    "Hello {{ customer.name }}\n{% set ns = namespace(s='x') %}"
    "{% if customer.external_id == 'X-1' %}"
    "{% for i in range(60) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s }}{% endif %}\n"
)


def test_a_bomb_behind_an_if_fails_that_message_alone_and_the_tick_goes_on(kit, book):
    kit.template("hello", HELLO)
    kit.load(BOMBED)
    with transaction(kit.engine) as s:
        s.add(Customer(external_id="X-1", name="Bomb Co", arr=1000, status=CustomerStatus.ACTIVE))
        s.flush()
        s.add_all(
            [
                Contact(customer_id=c, name="Pat", email=f"pat{c}@x.example", is_champion=True)
                for c in s.scalars(sa.select(Customer.id).where(Customer.external_id.in_(["X-1", "M-1"])))
            ]
        )
    kit.enroll("bombed", "E-1", "X-1", "M-1")
    started = time.monotonic()
    result = kit.tick(kit.T0)
    assert time.monotonic() - started < 30
    assert (result.advanced, result.completed, result.failed) == (3, 2, 1)
    enrollments = kit.enrollments("bombed")
    failed = enrollments["X-1"]
    assert (failed.status, failed.success) == ("failed", False)
    # The memory cap stops it, or, on a machine busy enough to slow the
    # bomb down, the render deadline first: either way that message alone.
    assert failed.exit_reason in (
        "step hello: template emails/hello.txt.j2, line 2: not allowed:"
        " it needs more memory than a template may use",
        "step hello: template emails/hello.txt.j2: not allowed: it takes longer than 2 s to render",
    )
    assert [e.status for k, e in sorted(enrollments.items()) if k != "X-1"] == ["completed", "completed"]
    assert kit.count(OutboxMessage) == 2
    with transaction(kit.engine) as s:
        error = s.scalar(sa.select(JourneyStepRun.error).where(JourneyStepRun.outcome == "failed"))
    assert "not allowed: " in error
