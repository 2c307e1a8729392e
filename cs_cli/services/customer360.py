"""Customer 360: everything about one customer gathered in a fixed number
of queries (none per touchpoint, task or contact), and the reasons it is
at risk put into words."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from cs_cli.db.models import (
    Contact,
    CSTask,
    Customer,
    HealthScore,
    Journey,
    JourneyEnrollment,
    JourneyStep,
    NpsResponse,
    Playbook,
    PlaybookRun,
    UsageEvent,
)
from cs_cli.domain import (
    Actor,
    AlertRow,
    AlertSeverity,
    ChurnDriver,
    ComponentView,
    ContactView,
    Customer360,
    CustomerRow,
    EnrollmentStatus,
    EnrollmentView,
    HealthDetail,
    HealthStatus,
    MeasureView,
    PlaybookRunStatus,
    RiskIndicator,
    RunProgress,
    TaskPage,
    TaskStatus,
    TouchpointRow,
    UsageWeek,
)
from cs_cli.errors import BadInput, NotFound
from cs_cli.services.alerts import SEVERITY_RANK, UNRESOLVED, list_alerts
from cs_cli.services.customers import customer_row_query, find_customer
from cs_cli.services.health.views import history, score_detail, status_bands
from cs_cli.services.tasks.selection import TaskFilter
from cs_cli.services.tasks.views import list_tasks
from cs_cli.services.text.themes import customer_topics
from cs_cli.services.tickets import recent_tickets
from cs_cli.services.touchpoints import TouchpointFilter, list_touchpoints
from cs_cli.specs.scorecard import MEASURES

# Days of score history behind the trend line.
TREND_DAYS = 90
# Weeks of usage events behind the usage chart (about TREND_DAYS).
USAGE_WEEKS = 13
# A component under this scores as a risk (under WEAK: a serious one).
FAIR, WEAK = 60, 40
# Renewal this close with health not healthy is a risk (CLOSE: a serious one).
RENEWAL_SOON, RENEWAL_CLOSE = 90, 30
# No touchpoint for this many days is a risk.
QUIET_DAYS = 60
# The alert type (the checker's, which the demo's share) that gives the
# same reason as a score multiplier: with that alert open, the multiplier
# is not said a second time.
SAID_BY_ALERT = {
    "renewal_within_days": "renewal_at_risk",
    "open_escalation": "escalation",
    "champion_left": "champion_left",
}


def customer_360(
    session: Session,
    actor: Actor,
    ref: str,
    *,
    as_of: dt.date,
    touchpoints: int = 50,
    tasks: int = 50,
    record: bool = False,
) -> Customer360:
    """One customer as the board's Customer 360 shows it: health explained,
    trend, risks, contacts, journeys, playbook runs, the newest touchpoints,
    the open tasks and the newest tickets. NotFound for a customer the actor may not see.
    `record`: an audit entry of the read (the board's first load of a 360,
    not each refresh)."""
    customer = find_customer(session, actor, ref)
    if record:
        from cs_cli.services.audit import record_read

        record_read(session, actor, "customer_360", customer_id=customer.id)
    ext = customer.external_id
    latest_nps = (
        sa.select(NpsResponse.score)
        .where(NpsResponse.customer_id == customer.id)
        .order_by(NpsResponse.responded_at.desc(), NpsResponse.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    found = session.execute(
        customer_row_query()
        .add_columns(
            HealthScore.churn_probability,
            HealthScore.expansion_probability,
            HealthScore.nps_predicted,
            HealthScore.id.label("score_id"),
            latest_nps.label("latest_nps"),
        )
        .where(Customer.id == customer.id)
    ).one()
    fields = dict(found._mapping)
    churn, expansion = fields.pop("churn_probability"), fields.pop("expansion_probability")
    scored, nps = fields.pop("score_id") is not None, fields.pop("latest_nps")
    predicted_nps = fields.pop("nps_predicted")
    row = CustomerRow(**fields)

    health: HealthDetail | None = None
    if scored:
        try:
            health = score_detail(session, actor, ext, today=as_of, record=False)
        except NotFound:  # a score without its history row: shown unexplained
            health = None
    _, points = history(session, actor, ext, since=as_of - dt.timedelta(days=TREND_DAYS), until=as_of)

    contacts = [
        ContactView(
            external_id=c.external_id,
            name=c.name,
            email=c.email,
            title=c.title,
            role=c.role,
            is_champion=c.is_champion,
            is_exec_sponsor=c.is_exec_sponsor,
            left_at=c.left_at,
        )
        for c in session.scalars(
            sa.select(Contact)
            .where(Contact.customer_id == customer.id)
            .order_by(
                Contact.left_at.is_not(None),
                Contact.is_exec_sponsor.desc(),
                Contact.is_champion.desc(),
                Contact.name,
                Contact.id,
            )
        )
    ]
    timeline = list_touchpoints(session, actor, TouchpointFilter(customer=ext), limit=touchpoints)
    open_tasks = list_tasks(
        session, actor, TaskFilter(customer=ext, include_snoozed=True), today=as_of, sort="due", limit=tasks
    )
    alerts = list_alerts(session, actor, as_of=as_of, statuses=UNRESOLVED, customer=ext, limit=20).rows
    components, multipliers = _components(health)
    return Customer360(
        customer=row,
        industry=customer.industry,
        region=customer.region,
        contract_start=customer.contract_start,
        churned_at=customer.churned_at,
        as_of=as_of,
        health=health,
        history=points,
        components=components,
        multipliers=multipliers,
        risks=risks(row, health, multipliers, contacts, timeline.rows, open_tasks, alerts, nps, as_of=as_of),
        churn_probability=churn,
        expansion_probability=expansion,
        latest_nps=nps,
        predicted_nps=predicted_nps,
        contacts=contacts,
        journeys=_journeys(session, customer.id),
        playbook_runs=_runs(session, customer.id),
        touchpoints=timeline,
        tasks=open_tasks,
        alerts=alerts,
        churn_drivers=_churn_drivers(session, actor, ext, churn, as_of),
        topics=customer_topics(session, customer.id, as_of=as_of),
        tickets=recent_tickets(session, customer.id),
        status_bands=status_bands(session, health.scorecard_version if health else None),
        usage_weeks=usage_weeks(session, customer.id, as_of=as_of),
    )


def usage_weeks(
    session: Session, customer_id: int, *, as_of: dt.date, weeks: int = USAGE_WEEKS
) -> list[UsageWeek]:
    """The customer's usage events in each of the `weeks` seven-day spans
    ending on `as_of` (its end of day included), oldest first: one statement."""
    end = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time(), dt.UTC)
    spans = [(end - dt.timedelta(days=7 * (k + 1)), end - dt.timedelta(days=7 * k)) for k in range(weeks)]
    spans.reverse()
    at, quantity = UsageEvent.occurred_at, UsageEvent.quantity
    # A row may stand for several events (`quantity`).
    counts = session.execute(
        sa.select(*(sa.func.sum(quantity).filter(at >= lo, at < hi) for lo, hi in spans)).where(
            UsageEvent.customer_id == customer_id, at >= spans[0][0], at < end
        )
    ).one()
    return [
        UsageWeek(end=(hi - dt.timedelta(days=1)).date(), events=round(n or 0))
        for (_, hi), n in zip(spans, counts, strict=True)
    ]


def _components(health: HealthDetail | None) -> tuple[list[ComponentView], list[tuple[str, float, str]]]:
    """Each component with the measures behind it, from the score's explanation."""
    if health is None:
        return [], []
    explanation = health.explanation
    measures: dict[str, list[MeasureView]] = {}
    for name, values in explanation.get("measures", {}).items():
        component = MEASURES[name][0].value if name in MEASURES else "?"
        measures.setdefault(component, []).append(
            MeasureView(
                name=name,
                raw=values.get("raw"),
                score=values.get("score"),
                meaning=MEASURES[name][2] if name in MEASURES else "",
            )
        )
    contributions = explanation.get("contributions", {})
    components = [
        ComponentView(name=name, score=score, points=contributions.get(name), measures=measures.get(name, []))
        for name, score in health.components.items()
    ]
    multipliers = [
        (str(m[0]), float(m[1]), str(m[2]) if len(m) > 2 else str(m[0]).replace("_", " "))
        for m in explanation.get("multipliers", [])
    ]
    return components, multipliers


def risks(
    row: CustomerRow,
    health: HealthDetail | None,
    multipliers: list[tuple[str, float, str]],
    contacts: list[ContactView],
    touchpoints: list[TouchpointRow],
    tasks: TaskPage,
    alerts: list[AlertRow],
    latest_nps: int | None,
    *,
    as_of: dt.date,
) -> list[RiskIndicator]:
    """Why the customer is at risk, most serious first: open alerts, the
    multipliers applied, a falling score, weak components, a close renewal,
    lost contacts, overdue work, silence and a detractor's NPS."""
    crit, warn, info = AlertSeverity.CRITICAL, AlertSeverity.WARNING, AlertSeverity.INFO
    out: list[RiskIndicator] = []
    for alert in alerts:
        # Who is to act on it (the alerts screen's assign), by login.
        who = f" → {alert.assigned_to.split('@', 1)[0]}" if alert.assigned_to else ""
        out.append(RiskIndicator("alert", alert.severity, f"alert: {alert.title}{who}"))
    # An open alert already says it: not twice.
    alerted = {a.alert_type for a in alerts}
    for name, factor, label in multipliers:
        if SAID_BY_ALERT.get(name) not in alerted:
            out.append(RiskIndicator("multiplier", warn, f"score x{factor:g}: {label}"))
    if health is not None:
        change = health.score_change_30d
        if change is not None and change <= -5 and "health_drop" not in alerted:
            out.append(
                RiskIndicator(
                    "trend", crit if change <= -15 else warn, f"health dropped {-change} points in 30 days"
                )
            )
        for component, score in health.components.items():
            if score is not None and score < FAIR:
                weakest = _weakest(health, component)
                text = f"{component} is {'weak' if score < WEAK else 'fair'} ({score})"
                out.append(RiskIndicator("component", crit if score < WEAK else warn, text + weakest))
        if health.override:
            o = health.override
            out.append(
                RiskIndicator(
                    "override", info, f"score set by {o['set_by']} until {o['expires_on']}: {o['reason']}"
                )
            )
    status = (health.health_status if health else None) or row.health_status
    if row.renewal_date is not None and row.status == "active" and "renewal_at_risk" not in alerted:
        days = (row.renewal_date - as_of).days
        if 0 <= days <= RENEWAL_SOON and status not in (None, HealthStatus.HEALTHY):
            severity = crit if days <= RENEWAL_CLOSE else warn
            out.append(
                RiskIndicator("renewal", severity, f"renewal in {days} days and health {_words(status)}")
            )
    champions = [c for c in contacts if c.is_champion]
    for c in champions:
        if c.left_at is not None and "champion_left" not in alerted:
            out.append(
                RiskIndicator("contact", crit, f"champion {c.name or c.email} left on {c.left_at.date()}")
            )
    if contacts and not any(c.left_at is None for c in champions):
        out.append(RiskIndicator("contact", warn, "no champion in place"))
    if contacts and not any(c.is_exec_sponsor and c.left_at is None for c in contacts):
        out.append(RiskIndicator("contact", info, "no executive sponsor"))
    overdue = sum(1 for t in tasks.rows if t.overdue)
    if overdue:
        out.append(RiskIndicator("tasks", warn, f"{overdue} overdue task{'s' if overdue != 1 else ''}"))
    if row.status == "active":
        last = touchpoints[0].occurred_at.date() if touchpoints else None
        if last is None or (as_of - last).days > QUIET_DAYS:
            words = "no touchpoint yet" if last is None else f"no touchpoint in {(as_of - last).days} days"
            out.append(RiskIndicator("silence", warn, words))
    if latest_nps is not None and latest_nps <= 6 and "low_nps" not in alerted:
        out.append(RiskIndicator("nps", warn, f"detractor: last NPS {latest_nps}"))
    return sorted(out, key=lambda r: SEVERITY_RANK[r.severity])


def _weakest(health: HealthDetail, component: str) -> str:
    """': <the lowest-scoring measure of the component> <raw> (score N)', or ''."""
    measures = [
        (values.get("score"), name, values.get("raw"))
        for name, values in health.explanation.get("measures", {}).items()
        if name in MEASURES and MEASURES[name][0].value == component and values.get("score") is not None
    ]
    if not measures:
        return ""
    score, name, raw = min(measures)
    if isinstance(raw, int | float) and abs(raw) >= 1000:
        shown = f"{raw / 1000:.3g}K"  # 281K, not 281000
    else:
        shown = f"{raw:.3g}" if isinstance(raw, float) else raw
    return f": {name.replace('_', ' ')} {shown} (score {score})"


def _words(status: HealthStatus | str | None) -> str:
    return str(status).replace("_", " ") if status else "not scored"


def _journeys(session: Session, customer_id: int) -> list[EnrollmentView]:
    """The customer's journey enrollments, active ones first, with the step
    each is on and how many steps its journey version has."""
    step = aliased(JourneyStep)
    steps = (
        sa.select(sa.func.count())
        .select_from(step)
        .where(
            step.journey_id == JourneyEnrollment.journey_id, step.version == JourneyEnrollment.journey_version
        )
        .correlate(JourneyEnrollment)
        .scalar_subquery()
    )
    rows = session.execute(
        sa.select(
            JourneyEnrollment.id,
            Journey.name.label("journey"),
            Journey.journey_type,
            JourneyEnrollment.status,
            JourneyStep.name.label("current_step"),
            JourneyStep.step_order,
            steps.label("steps"),
            JourneyEnrollment.enrolled_at,
            JourneyEnrollment.completed_at,
        )
        .join(Journey, Journey.id == JourneyEnrollment.journey_id)
        .outerjoin(JourneyStep, JourneyStep.id == JourneyEnrollment.current_step_id)
        .where(JourneyEnrollment.customer_id == customer_id)
        .order_by(
            (JourneyEnrollment.status == EnrollmentStatus.ACTIVE).desc(),
            JourneyEnrollment.enrolled_at.desc(),
            JourneyEnrollment.id.desc(),
        )
        .limit(10)
    )
    return [EnrollmentView(**r._mapping) for r in rows]


def _runs(session: Session, customer_id: int) -> list[RunProgress]:
    """The customer's active playbook runs with their tasks done (completed
    or cancelled) and in all."""
    counts = (
        sa.select(
            CSTask.playbook_run_id,
            sa.func.count().label("total"),
            sa.func.count()
            .filter(CSTask.status.in_([TaskStatus.COMPLETED, TaskStatus.CANCELLED]))
            .label("done"),
        )
        .where(CSTask.customer_id == customer_id, CSTask.playbook_run_id.is_not(None))
        .group_by(CSTask.playbook_run_id)
        .subquery()
    )
    rows = session.execute(
        sa.select(
            PlaybookRun.id,
            Playbook.key,
            Playbook.name,
            PlaybookRun.status,
            PlaybookRun.trigger_reason,
            PlaybookRun.started_at,
            counts.c.done,
            counts.c.total,
        )
        .join(Playbook, Playbook.id == PlaybookRun.playbook_id)
        .outerjoin(counts, counts.c.playbook_run_id == PlaybookRun.id)
        .where(PlaybookRun.customer_id == customer_id, PlaybookRun.status == PlaybookRunStatus.ACTIVE)
        .order_by(PlaybookRun.started_at.desc(), PlaybookRun.id.desc())
    )
    return [
        RunProgress(
            id=r.id,
            playbook=r.key,
            playbook_name=r.name,
            status=r.status,
            trigger_reason=r.trigger_reason,
            started_at=r.started_at,
            tasks_done=r.done or 0,
            tasks_total=r.total or 0,
        )
        for r in rows
    ]


def _churn_drivers(
    session: Session, actor: Actor, ext: str, churn: float | None, as_of: dt.date
) -> list[ChurnDriver]:
    """The three biggest drivers of a predicted churn probability (none when
    it is not predicted, or the model cannot explain this customer now)."""
    if churn is None:
        return []
    from cs_cli.services.churn.predict import explain

    try:
        with session.begin_nested():
            got = explain(session, actor, ext, as_of=as_of)
    except (NotFound, BadInput):
        return []
    return [d for d in got.drivers if abs(d.effect) >= 0.005][:3]
