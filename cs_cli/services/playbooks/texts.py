"""The text of a playbook step's tasks: its description, agenda and talk
track rendered as one Jinja2 template (in the sandbox of cs_cli.templates),
then the plain lines after them. A template that reads only shared names
(playbook, step, today) renders once per step; one that reads customer data
renders per customer, a batch of runs at a time, into a scratch table that the
task INSERT joins.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from cs_cli import templates
from cs_cli.db import dialect
from cs_cli.db.models import (
    Contact,
    Customer,
    HealthScore,
    Playbook,
    PlaybookRun,
    PlaybookStep,
    User,
)
from cs_cli.errors import TemplateError
from cs_cli.services.health.overrides import active

RENDER_BATCH = 5_000


def _parts(step: PlaybookStep) -> list[tuple[str, str]]:
    """The step's templates, by the key the file names them with."""
    return [
        (key, text)
        for key, text in (
            ("description", step.description),
            ("meeting_agenda", step.meeting_agenda_template),
            ("talk_track", step.talk_track),
        )
        if text
    ]


def step_text(step: PlaybookStep) -> tuple[str | None, str]:
    """A step's task description: the template part (description, agenda,
    talk track, rendered as one) and the plain part after it (email
    template, artifacts, success criteria), which is never rendered."""
    headings = {"description": "", "meeting_agenda": "Agenda:\n", "talk_track": "Talk track:\n"}
    parts = [headings[key] + text.rstrip("\n") for key, text in _parts(step)]
    plain = []
    if step.email_template:
        plain.append(f"Email template: {step.email_template}")
    if step.required_artifacts:
        plain.append("Artifacts: " + ", ".join(step.required_artifacts))
    if step.success_criteria:
        plain.append("Success: " + describe_criteria(step.success_criteria))
    return ("\n\n".join(parts) or None), "\n".join(plain)


def describe_criteria(criteria: dict[str, Any]) -> str:
    words = []
    if "health_score_increase" in criteria:
        words.append(f"health score up {criteria['health_score_increase']} points from the start")
    if "health_score_at_least" in criteria:
        words.append(f"health score at least {criteria['health_score_at_least']}")
    text = " and ".join(words)
    if "within_days" in criteria:
        text += f" within {criteria['within_days']} days"
    return text


def join_text(rendered: str | None, plain: str) -> str | None:
    text = "\n\n".join(p for p in (rendered, plain) if p)
    return text or None


def render_step(playbook: Playbook, step: PlaybookStep, template: Any, context: dict[str, Any]) -> str:
    """A step's composed template rendered; an error names the step's own
    template (description, meeting_agenda or talk_track) and its line."""
    name = f"{playbook.key} step {step.step_order}"
    try:
        if isinstance(template, str):
            return templates.render(template, context, name=name)
        return templates.render_compiled(template, context, name=name)
    except TemplateError:
        for key, text in _parts(step):
            templates.render(text, context, name=f"{name} {key}")
        raise


def shared_context(playbook: Playbook, step: PlaybookStep, as_of: dt.date) -> dict[str, Any]:
    return {
        "playbook": {"key": playbook.key, "name": playbook.name},
        "step": {"order": step.step_order, "name": step.name},
        "today": as_of,
    }


def render_texts(
    session: Session,
    new_runs: sa.Table,
    texts: sa.Table,
    playbook: Playbook,
    steps: list[tuple[PlaybookStep, str, str]],
    *,
    as_of: dt.date,
) -> None:
    """Render the customer-dependent texts of `playbook`'s new runs, a batch
    of runs at a time, into the texts table."""
    compiled = [
        (step, templates.compile_template(text, f"{playbook.key} step {step.step_order}"), plain)
        for step, text, plain in steps
    ]
    wanted = set().union(*(templates.variables(text) for _, text, _ in steps))
    needs_attributes = any("attributes" in text for _, text, _ in steps)
    for batch in _context_batches(session, new_runs, playbook.id, wanted, needs_attributes, as_of):
        rows = []
        for run_id, context in batch:
            context["playbook"] = {"key": playbook.key, "name": playbook.name}
            context["today"] = as_of
            for step, template, plain in compiled:
                context["step"] = {"order": step.step_order, "name": step.name}
                rendered = render_step(playbook, step, template, context)
                rows.append((run_id, step.id, join_text(rendered, plain)))
        dialect.append_rows(session, texts, ["run_id", "step_id", "description"], rows)


def _context_batches(
    session: Session,
    new_runs: sa.Table,
    playbook_id: int,
    wanted: set[str],
    needs_attributes: bool,
    as_of: dt.date,
) -> Iterator[list[tuple[int, dict[str, Any]]]]:
    """The template context of each new run of a playbook, in batches."""
    csm = aliased(User)
    # The current score, as a reader sees it: an override in force wins.
    override = active(as_of)
    columns = [
        new_runs.c.run_id,
        Customer.external_id,
        Customer.name,
        Customer.arr,
        Customer.plan,
        Customer.seats,
        Customer.industry,
        Customer.region,
        Customer.renewal_date,
        Customer.contract_start,
        Customer.attributes if needs_attributes else sa.null().label("attributes"),
        sa.func.coalesce(override.c.overall_score, HealthScore.overall_score).label("overall_score"),
        sa.func.coalesce(override.c.health_status, HealthScore.health_status).label("health_status"),
        HealthScore.score_trend,
        HealthScore.score_change_30d,
        csm.name.label("csm_name"),
        csm.email.label("csm_email"),
        PlaybookRun.trigger_reason,
        PlaybookRun.started_at,
        PlaybookRun.baseline_health_score,
    ]
    source = (
        new_runs.join(Customer, Customer.id == new_runs.c.customer_id)
        .join(PlaybookRun, PlaybookRun.id == new_runs.c.run_id)
        .outerjoin(HealthScore, HealthScore.customer_id == Customer.id)
        .outerjoin(override, override.c.customer_id == Customer.id)
        .outerjoin(csm, csm.id == Customer.csm_id)
    )
    people = {"champion": Contact.is_champion, "sponsor": Contact.is_exec_sponsor}
    for role in [r for r in people if r in wanted]:
        first = (
            sa.select(Contact.customer_id, sa.func.min(Contact.id).label("id"))
            .join(new_runs, new_runs.c.customer_id == Contact.customer_id)
            .where(people[role], Contact.left_at.is_(None), new_runs.c.playbook_id == playbook_id)
            .group_by(Contact.customer_id)
            .subquery(f"{role}_first")
        )
        person = aliased(Contact, name=role)
        source = source.outerjoin(first, first.c.customer_id == Customer.id).outerjoin(
            person, person.id == first.c.id
        )
        columns += [
            person.name.label(f"{role}_name"),
            person.email.label(f"{role}_email"),
            person.title.label(f"{role}_title"),
        ]
    last = 0
    while True:
        rows = session.execute(
            sa.select(*columns)
            .select_from(source)
            .where(new_runs.c.playbook_id == playbook_id, new_runs.c.run_id > last)
            .order_by(new_runs.c.run_id)
            .limit(RENDER_BATCH)
        ).all()
        if not rows:
            return
        last = rows[-1].run_id
        yield [(row.run_id, _context(row, as_of)) for row in rows]


def _context(row: Any, as_of: dt.date) -> dict[str, Any]:
    mapping = row._mapping
    context = {
        "customer": {
            "external_id": row.external_id,
            "name": row.name,
            "arr": row.arr,
            "plan": row.plan,
            "seats": row.seats,
            "industry": row.industry,
            "region": row.region,
            "renewal_date": row.renewal_date,
            "contract_start": row.contract_start,
            "days_to_renewal": (row.renewal_date - as_of).days if row.renewal_date else None,
            "attributes": row.attributes or {},
        },
        "health": {
            "overall_score": row.overall_score,
            "health_status": row.health_status,
            "score_trend": row.score_trend,
            "score_change_30d": row.score_change_30d,
        },
        "csm": {"name": row.csm_name, "email": row.csm_email},
        "run": {
            "reason": row.trigger_reason,
            "started_on": row.started_at.date(),
            "baseline_health_score": row.baseline_health_score,
        },
    }
    for role in ("champion", "sponsor"):
        if f"{role}_name" in mapping:
            context[role] = {
                "name": mapping[f"{role}_name"],
                "email": mapping[f"{role}_email"],
                "title": mapping[f"{role}_title"],
            }
    return context
