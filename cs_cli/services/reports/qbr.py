"""The quarterly business review pack of one customer: the quarter's health
and why it moved, usage by week, work done, touchpoints and their
sentiment, open risks and churn drivers, renewal and expansion outlook, and
goals for the next quarter; rendered from a Jinja2 template in the same
sandbox (and worker, with its deadline) as email templates, which a folder
of the user's may override."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli.db import dialect
from cs_cli.db.base import UTCDateTime
from cs_cli.db.models import CSTask, Customer, Touchpoint, UsageEvent
from cs_cli.domain import Actor, TaskStatus
from cs_cli.errors import BadInput
from cs_cli.services.audit import record_read
from cs_cli.services.customer360 import customer_360
from cs_cli.services.facts import day_end, day_start
from cs_cli.services.reports import charts
from cs_cli.services.tasks.selection import OPEN

TEMPLATE = Path(__file__).parent / "templates" / "qbr.html"
QUARTER_DAYS = 91


def qbr_context(
    session: Session, actor: Actor, ref: str, *, as_of: dt.date, now: dt.datetime
) -> dict[str, Any]:
    """Everything the QBR template may read, as plain values (NotFound for a
    customer the actor may not see)."""
    view = customer_360(session, actor, ref, as_of=as_of, touchpoints=1, tasks=1)
    start = as_of - dt.timedelta(days=QUARTER_DAYS - 1)
    begin, end = sa.literal(day_start(start), UTCDateTime()), sa.literal(day_end(as_of), UTCDateTime())
    cid = session.scalar(sa.select(Customer.id).where(Customer.external_id == view.customer.external_id))
    record_read(session, actor, "qbr", customer_id=cid, details={"as_of": as_of})
    quarter = [p for p in view.history if start <= p.as_of <= as_of]
    first, last = (quarter[0], quarter[-1]) if quarter else (None, None)
    moved = []
    if first and last:
        for name in (
            "product_adoption_score",
            "engagement_score",
            "relationship_score",
            "financial_score",
            "support_score",
        ):
            a, b = getattr(first, name), getattr(last, name)
            if a is not None and b is not None and a != b:
                moved.append(
                    {
                        "component": name.removesuffix("_score").replace("_", " "),
                        "from": a,
                        "to": b,
                        "change": b - a,
                    }
                )
        moved.sort(key=lambda m: -abs(m["change"]))
    # Usage by week (13 weeks ending on the day).
    day = dialect.utc_day(session, UsageEvent.occurred_at)
    daily = session.execute(
        sa.select(day, sa.func.count(), sa.func.count(sa.distinct(UsageEvent.contact_id)))
        .where(UsageEvent.customer_id == cid, UsageEvent.occurred_at >= begin, UsageEvent.occurred_at < end)
        .group_by(day)
    ).all()
    weeks = [0] * 13
    for d, n, _users in daily:
        d = dt.date.fromisoformat(d) if isinstance(d, str) else d
        index = 12 - (as_of - d).days // 7
        if 0 <= index < 13:
            weeks[index] += n
    week_labels = [(as_of - dt.timedelta(days=7 * (12 - i) + 6)).strftime("%d %b") for i in range(13)]
    done = session.execute(
        sa.select(CSTask.title, CSTask.outcome, CSTask.completed_at)
        .where(
            CSTask.customer_id == cid,
            CSTask.status == TaskStatus.COMPLETED,
            CSTask.completed_at >= begin,
            CSTask.completed_at < end,
        )
        .order_by(CSTask.completed_at)
    ).all()
    open_tasks = session.execute(
        sa.select(CSTask.title, CSTask.due_date)
        .where(CSTask.customer_id == cid, CSTask.status.in_(OPEN))
        .order_by(CSTask.due_date.nulls_last(), CSTask.id)
    ).all()
    touch = session.execute(
        sa.select(Touchpoint.touchpoint_type, sa.func.count(), sa.func.avg(Touchpoint.sentiment_score))
        .where(Touchpoint.customer_id == cid, Touchpoint.occurred_at >= begin, Touchpoint.occurred_at < end)
        .group_by(Touchpoint.touchpoint_type)
        .order_by(sa.func.count().desc())
    ).all()
    c = view.customer
    return {
        "customer": {
            "external_id": c.external_id,
            "name": c.name,
            "arr": None if c.arr is None else float(c.arr),
            "plan": c.plan,
            "renewal_date": c.renewal_date,
            "csm": c.csm_email,
            "health_score": c.health_score,
            "health_status": str(getattr(c.health_status, "value", c.health_status) or "not scored"),
        },
        "quarter": {"start": start, "end": as_of},
        "made": {"by": actor.name, "at": now},
        "health": {
            "start": None if first is None else first.overall_score,
            "end": None if last is None else last.overall_score,
            "moved": moved,
            "chart": charts.line(
                [(p.as_of.strftime("%d %b"), float(p.overall_score)) for p in quarter],
                title="Health score over the quarter",
                low=0,
                high=100,
                fmt=lambda v: f"{v:.0f}",
            ),
        },
        "usage": {
            "weeks": list(zip(week_labels, weeks, strict=True)),
            "total": sum(weeks),
            "first_half": sum(weeks[:6]),
            "second_half": sum(weeks[7:]),
            "chart": charts.bars(
                list(zip(week_labels, [float(w) for w in weeks], strict=True)), title="Product use by week"
            ),
        },
        "work": {
            "done": [{"title": t, "outcome": getattr(o, "value", o), "on": w.date()} for t, o, w in done],
            "playbooks": [
                {
                    "name": r.playbook_name,
                    "status": r.status.value,
                    "done": r.tasks_done,
                    "total": r.tasks_total,
                }
                for r in view.playbook_runs
            ],
        },
        "touchpoints": [
            {
                "type": getattr(t, "value", t),
                "count": n,
                "sentiment": None if s is None else round(float(s), 2),
            }
            for t, n, s in touch
        ],
        "risks": [{"severity": r.severity.value, "text": r.text} for r in view.risks],
        "drivers": [
            {"words": d.words, "value": d.value, "usual": d.usual, "effect": round(d.effect, 3)}
            for d in view.churn_drivers
        ],
        "outlook": {
            "days_to_renewal": None if c.renewal_date is None else (c.renewal_date - as_of).days,
            "churn_probability": view.churn_probability,
            "expansion_probability": view.expansion_probability,
            "latest_nps": view.latest_nps,
        },
        "goals": [{"title": t, "due": d} for t, d in open_tasks],
    }


def render_qbr(context: dict[str, Any], *, templates: Path | None = None) -> str:
    """The pack as HTML: `templates/qbr.html` when that folder has one, else
    the shipped template; autoescaped, sandboxed, with the render deadline."""
    from cs_cli import templates as sandbox
    from cs_cli.templates.emails import html_source

    path = TEMPLATE
    if templates is not None:
        if not templates.is_dir():
            raise BadInput(f"{templates}: no such directory")
        if (templates / "qbr.html").is_file():
            path = templates / "qbr.html"
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise BadInput(f"{path}: not UTF-8 text") from None
    return sandbox.render(html_source(text), _plain(context), name=str(path))


def _plain(value: Any) -> Any:
    """Dataclasses as dicts, all the way down (the sandbox's worker takes plain values)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _plain(dataclasses.asdict(value))
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
