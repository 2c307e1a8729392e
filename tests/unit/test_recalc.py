"""`recalc` on both dialects: hand-computed scores, history, trends, events,
and a fixed number of statements whatever the number of customers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import sqlalchemy as sa

from cs_cli.db.engine import transaction
from cs_cli.db.models import (
    Contact,
    Customer,
    DomainEvent,
    HealthScore,
    HealthScoreHistory,
    NpsResponse,
    SupportTicket,
    UsageEvent,
)
from cs_cli.domain import CustomerStatus, HealthStatus, ScoreTrend
from cs_cli.services.health.recalc import recalc_day, target_ids
from cs_cli.specs.scorecard import load_scorecard

SIMPLE = load_scorecard(Path(__file__).parent.parent / "fixtures" / "simple_scorecard.yaml")
AS_OF = dt.date(2026, 6, 30)
NOW = dt.datetime(2026, 7, 1, 6, 0, tzinfo=dt.UTC)


def at(day: dt.date, hour: int = 12) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC)


def build(engine, *, active_days_a: int = 7) -> dict[str, int]:
    """A: busy (7 of the last 10 days), champion, NPS 8, renews in 10 days.
    B: 4 active days, no contacts, one open escalation. C: churned.
    D: nothing at all."""
    with transaction(engine) as s:
        a = Customer(external_id="A", name="Alpha", renewal_date=AS_OF + dt.timedelta(days=10))
        b = Customer(external_id="B", name="Beta", renewal_date=AS_OF + dt.timedelta(days=200))
        c = Customer(external_id="C", name="Gamma", status=CustomerStatus.CHURNED)
        d = Customer(external_id="D", name="Delta")
        s.add_all([a, b, c, d])
        s.flush()
        events = []
        for k in range(active_days_a):
            events.append(
                {"customer_id": a.id, "event_name": "login", "occurred_at": at(AS_OF - dt.timedelta(k))}
            )
        for k in range(4):
            day = AS_OF - dt.timedelta(k * 2)
            events += [
                {"customer_id": b.id, "event_name": "login", "occurred_at": at(day, h)} for h in (9, 15)
            ]
        events.append({"customer_id": c.id, "event_name": "login", "occurred_at": at(AS_OF)})
        # Outside the 10-day window and after the as-of day: not counted.
        events.append(
            {"customer_id": b.id, "event_name": "login", "occurred_at": at(AS_OF - dt.timedelta(15))}
        )
        events.append(
            {"customer_id": b.id, "event_name": "login", "occurred_at": at(AS_OF + dt.timedelta(1), 1)}
        )
        s.execute(sa.insert(UsageEvent), events)
        s.add(Contact(customer_id=a.id, name="Ann", is_champion=True))
        s.add(
            NpsResponse(
                external_id="N1", customer_id=a.id, score=8, responded_at=at(AS_OF - dt.timedelta(20))
            )
        )
        s.add(
            SupportTicket(
                external_id="T1", customer_id=b.id, opened_at=at(AS_OF - dt.timedelta(3)), escalated=True
            )
        )
        return {"A": a.id, "B": b.id, "C": c.id, "D": d.id}


def run(engine, admin, day=AS_OF, **kwargs):
    with transaction(engine) as s:
        ids = target_ids(s, admin)
        return recalc_day(s, admin, SIMPLE, ids, as_of=day, now=NOW, **kwargs)


def current(engine) -> dict[str, HealthScore]:
    with transaction(engine) as s:
        rows = s.execute(sa.select(Customer.external_id, HealthScore).join(HealthScore)).all()
        return {ext: score for ext, score in rows}


def explanations(engine, admin) -> dict[str, dict]:
    """What `cs health show` explains, per customer."""
    from cs_cli.services.health.views import score_detail

    with transaction(engine) as s:
        ids = s.scalars(sa.select(Customer.external_id).join(HealthScore)).all()
        return {ext: score_detail(s, admin, ext).explanation for ext in ids}


def assert_sql_agrees_with_python(engine) -> int:
    """Every stored score equals what scoring.py computes from the raw
    measures and signals that history kept."""
    from cs_cli.services.health import scoring

    checked = 0
    with transaction(engine) as s:
        rows = s.execute(
            sa.select(HealthScoreHistory, Customer.status).join(
                Customer, Customer.id == HealthScoreHistory.customer_id
            )
        ).all()
    for history, status in rows:
        doc = scoring.kept(SIMPLE.card, history.raw_values, history.signal_values, history.measures)
        raw = doc["raw"]
        signals = scoring.Signals(
            days_to_renewal=doc["signals"]["days_to_renewal"],
            open_escalations=doc["signals"]["open_escalations"] or 0,
            champion_left_recently=bool(doc["signals"]["champion_left"]),
        )
        result = scoring.score(SIMPLE.card, raw, signals, churned=status == CustomerStatus.CHURNED)
        assert (result.overall, result.status) == (history.overall_score, history.health_status)
        # History keeps no band scores; the components it stores are what
        # the bands give for the raw values it keeps.
        assert "score" not in doc
        stored = {
            "adoption": history.product_adoption_score,
            "engagement": history.engagement_score,
            "relationship": history.relationship_score,
            "financial": history.financial_score,
            "support": history.support_score,
        }
        assert result.components == stored
        checked += 1
    return checked


def test_hand_computed_scores(engine, admin):
    build(engine)
    result = run(engine, admin)
    why = explanations(engine, admin)
    assert assert_sql_agrees_with_python(engine) == 3
    assert (result.scored, result.without_data) == (3, 1)
    scores = current(engine)
    assert set(scores) == {"A", "B", "C"}  # D has no data at all: no score
    # A: adoption 100 (0.7 of days), relationship (100 + 100) / 2, no support
    # data; base 100; renewal in 10 days x0.95 -> 95.
    a = scores["A"]
    assert (a.overall_score, a.health_status) == (95, HealthStatus.HEALTHY)
    assert (a.product_adoption_score, a.relationship_score, a.support_score) == (100, 100, None)
    assert a.days_to_renewal == 10 and a.days_since_last_login == 0
    assert why["A"]["multipliers"] == [["renewal_within_days", 0.95, "renewal within 30 days"]]
    assert why["A"]["missing"] == ["support"]
    # B: adoption 60 (0.4), support 50 (one open escalation), no relationship:
    # (50*60 + 20*50) / 70 = 57.14; x0.9 -> 51.
    b = scores["B"]
    assert (b.overall_score, b.health_status) == (51, HealthStatus.CRITICAL)
    assert why["B"]["measures"]["active_days"] == {"raw": 0.4, "score": 60}
    assert why["B"]["missing"] == ["relationship"]
    assert scores["C"].health_status == HealthStatus.CHURNED
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(HealthScoreHistory)).scalar_one() == 3


def test_rerunning_a_day_replaces_its_history(engine, admin):
    build(engine)
    run(engine, admin)
    run(engine, admin)
    with engine.connect() as conn:
        rows = conn.execute(sa.select(HealthScoreHistory.customer_id, HealthScoreHistory.as_of)).all()
    assert len(rows) == 3 and {r.as_of for r in rows} == {AS_OF}


def test_trend_from_thirty_days_before_and_status_drop_event(engine, admin):
    ids = build(engine, active_days_a=7)
    earlier = AS_OF - dt.timedelta(days=30)
    # Thirty days before, A was less active: 3 days in its window.
    with transaction(engine) as s:
        s.execute(
            sa.insert(UsageEvent),
            [
                {"customer_id": ids["A"], "event_name": "login", "occurred_at": at(earlier - dt.timedelta(k))}
                for k in range(3)
            ],
        )
    run(engine, admin, day=earlier)
    before = current(engine)["A"]
    # 3 of 10 days: adoption 60; champion 100 and no NPS yet: relationship 100;
    # (50*60 + 30*100) / 80 = 75; renewal is 40 days away: no multiplier.
    assert before.overall_score == 75
    run(engine, admin)
    a = current(engine)["A"]
    assert a.score_change_30d == 95 - before.overall_score
    assert a.score_trend == ScoreTrend.IMPROVING


def test_a_backfill_of_an_older_day_leaves_the_current_score(engine, admin):
    build(engine)
    run(engine, admin)
    run(engine, admin, day=AS_OF - dt.timedelta(days=5))
    assert current(engine)["A"].as_of == AS_OF
    with engine.connect() as conn:
        # C had no activity yet five days before: no row for it that day.
        assert conn.execute(sa.select(sa.func.count()).select_from(HealthScoreHistory)).scalar_one() == 5


def test_status_drop_is_recorded_once(engine, admin):
    ids = build(engine)
    run(engine, admin)
    # A worsens the next day: an open escalation costs x0.9 and support points.
    with transaction(engine) as s:
        s.add(SupportTicket(external_id="T2", customer_id=ids["A"], opened_at=at(AS_OF), escalated=True))
    result = run(engine, admin, day=AS_OF + dt.timedelta(days=1))
    assert result.dropped == 1
    # Running the same day again records nothing new.
    assert run(engine, admin, day=AS_OF + dt.timedelta(days=1)).dropped == 0
    with engine.connect() as conn:
        events = conn.execute(
            sa.select(DomainEvent.event_type, DomainEvent.customer_id, DomainEvent.data)
        ).all()
    drops = [e for e in events if e.event_type == "health.status_dropped"]
    assert len(drops) == 1
    assert drops[0].customer_id == ids["A"]
    assert drops[0].data["from"] == "healthy" and drops[0].data["to"] in ("at_risk", "critical")


def test_a_score_falling_below_a_threshold_is_recorded_whatever_its_status(engine, admin, tmp_path):
    """B stays critical (no status drop) but slides from 55 to 51 across the
    threshold 52: one health.below_threshold event; a rerun adds none."""
    text = (Path(__file__).parent.parent / "fixtures" / "simple_scorecard.yaml").read_text()
    path = tmp_path / "thresholds.yaml"
    path.write_text(text + "\nbelow_thresholds: [40, 52, 90]\n")
    card = load_scorecard(path)
    assert card.card.below_thresholds == [90, 52, 40]
    ids = build(engine)
    day = AS_OF + dt.timedelta(days=1)
    with transaction(engine) as s:
        scored = target_ids(s, admin)
        recalc_day(s, admin, card, scored, as_of=AS_OF, now=NOW)
        # Yesterday's scores as they stood: B at 55 (critical), C (churned) at 60.
        for customer, score in (("B", 55), ("C", 60)):
            s.execute(
                sa.update(HealthScore)
                .where(HealthScore.customer_id == ids[customer])
                .values(overall_score=score)
            )
    with transaction(engine) as s:
        result = recalc_day(s, admin, card, scored, as_of=day, now=NOW)
    assert (result.dropped, result.fell_below) == (0, 1)
    with transaction(engine) as s:
        assert recalc_day(s, admin, card, scored, as_of=day, now=NOW).fell_below == 0
    with engine.connect() as conn:
        events = conn.execute(
            sa.select(DomainEvent.customer_id, DomainEvent.data).where(
                DomainEvent.event_type == "health.below_threshold"
            )
        ).all()
    assert [(e.customer_id, e.data) for e in events] == [
        (
            ids["B"],
            {
                "threshold": 52,
                "score": 51,
                "previous_score": 55,
                "status": "critical",
                "as_of": day.isoformat(),
            },
        )
    ]


def test_dry_run_writes_nothing(engine, admin):
    build(engine)
    result = run(engine, admin, dry_run=True)
    assert result.preview == {
        "A": (95, "healthy"),
        "B": (51, "critical"),
        "C": (result.preview["C"][0], "churned"),
    }
    assert current(engine) == {}


def _count_statements(engine, admin, customers: int) -> int:
    with transaction(engine) as s:
        for i in range(customers):
            c = Customer(external_id=f"X{i}", name=f"X{i}")
            s.add(c)
            s.flush()
            s.add(Contact(customer_id=c.id, is_champion=i % 2 == 0))
            s.add(UsageEvent(customer_id=c.id, event_name="login", occurred_at=at(AS_OF)))
    statements = []

    def listener(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", listener)
    try:
        run(engine, admin)
    finally:
        sa.event.remove(engine, "before_cursor_execute", listener)
    with transaction(engine) as s:
        s.execute(sa.delete(HealthScoreHistory))
        s.execute(sa.delete(HealthScore))
        s.execute(sa.delete(UsageEvent))
        s.execute(sa.delete(Contact))
        s.execute(sa.delete(Customer))
    return len(statements)


def test_statement_count_does_not_grow_with_the_book(engine, admin):
    assert _count_statements(engine, admin, 10) == _count_statements(engine, admin, 60)


def test_trend_is_declining_or_stable_by_the_thresholds(engine, admin):
    earlier = AS_OF - dt.timedelta(days=30)
    with transaction(engine) as s:
        falling = Customer(external_id="E", name="Falling")
        steady = Customer(external_id="F", name="Steady")
        s.add_all([falling, steady])
        s.flush()
        events = []
        for day, active in ((earlier, 7), (AS_OF, 4)):  # adoption 100, then 60
            events += [
                {"customer_id": falling.id, "event_name": "login", "occurred_at": at(day - dt.timedelta(k))}
                for k in range(active)
            ]
        for day in (earlier, AS_OF):  # adoption 100 both times
            events += [
                {"customer_id": steady.id, "event_name": "login", "occurred_at": at(day - dt.timedelta(k))}
                for k in range(8)
            ]
        s.execute(sa.insert(UsageEvent), events)
    run(engine, admin, day=earlier)
    run(engine, admin)
    scores = current(engine)
    assert (scores["E"].score_change_30d, scores["E"].score_trend) == (-40, ScoreTrend.DECLINING)
    assert (scores["F"].score_change_30d, scores["F"].score_trend) == (0, ScoreTrend.STABLE)


def test_a_run_of_days_ends_as_the_days_one_by_one_do(engine, admin):
    """Over several days the current scores are carried in a scratch table
    and written once: the history, the current scores and the events must
    come out exactly as when each day is its own run."""
    from cs_cli.db.engine import session_factory
    from cs_cli.services.demo import load_demo
    from cs_cli.services.health.recalc import recalc_days
    from cs_cli.specs.scorecard import load_scorecards

    as_of = dt.date(2026, 5, 31)
    with transaction(engine) as s:
        load_demo(s, admin, customers=40, months=4, seed=11, as_of=as_of)
    days = [as_of - dt.timedelta(days=k) for k in range(40, -1, -4)]
    plan = load_scorecards(None)
    now = dt.datetime.combine(as_of, dt.time(23), tzinfo=dt.UTC)

    def outcome(runs: list[list[dt.date]]):
        with session_factory(engine)() as s:
            ids = target_ids(s, admin, None)
            for run in runs:
                recalc_days(s, admin, plan, ids, days=run, now=now)
            current = s.execute(sa.select(HealthScore.__table__).order_by(HealthScore.customer_id)).all()
            history = s.execute(
                sa.select(HealthScoreHistory.__table__).order_by(
                    HealthScoreHistory.customer_id, HealthScoreHistory.as_of
                )
            ).all()
            events = s.execute(
                sa.select(
                    DomainEvent.event_type, DomainEvent.customer_id, DomainEvent.occurred_at, DomainEvent.data
                )
                .where(DomainEvent.event_type.like("health.%"))
                .order_by(DomainEvent.customer_id, DomainEvent.occurred_at, DomainEvent.event_type)
            ).all()
            s.rollback()

        def plain(rows):
            return [{k: v for k, v in r._mapping.items() if k not in ("id",)} for r in rows]

        return plain(current), plain(history), [tuple(e) for e in events]

    together = outcome([days])
    apart = outcome([[d] for d in days])
    assert together[1] == apart[1]
    assert together[0] == apart[0]
    assert together[2] == apart[2]
    assert together[2], "the book should see status drops over forty days"


def test_progress_moves_through_the_stages_of_each_day(engine, admin):
    from cs_cli.services.health.recalc import recalc_days
    from cs_cli.specs.scorecard import load_scorecards

    build(engine)
    seen: list[tuple[int, str | None]] = []
    with transaction(engine) as session:
        ids = target_ids(session, admin, None)
        days = [AS_OF - dt.timedelta(days=1), AS_OF]
        recalc_days(
            session,
            admin,
            load_scorecards(None),
            ids,
            days=days,
            now=at(AS_OF),
            progress=lambda n, stage=None: seen.append((n, stage)),
        )
    stages = [stage for _, stage in seen]
    for day in days:
        assert [s.split(": ", 1)[1] for s in stages if s.startswith(str(day))] == [
            "scoring",
            "writing history",
            "status events",
            "current scores",
            "done",
        ]
    # Every unit of work is counted once: the bar ends full, not before.
    assert sum(n for n, _ in seen) == len(ids) * len(days)
