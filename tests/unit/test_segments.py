"""Segments on both dialects: refresh bookkeeping (stays, entered/exited
times, events, metrics), dependency order, static members, and refusals."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from cs_cli.db.engine import transaction
from cs_cli.db.models import Customer, CustomerSegment, DomainEvent, HealthScore, Playbook, Segment
from cs_cli.domain import Actor, PlaybookCategory, Role, SegmentType
from cs_cli.errors import BadInput, NotFound, NotPermitted
from cs_cli.services.access import resolve_actor
from cs_cli.services.segments.definitions import create_segment, delete_segment, preview, update_segment
from cs_cli.services.segments.members import add_members, overlap, remove_members
from cs_cli.services.segments.refresh import refresh

DAY = dt.date(2025, 1, 10)


def _moment(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(6), tzinfo=dt.UTC)


def _stays(session, name: str) -> list[tuple[str, dt.datetime, dt.datetime | None]]:
    rows = session.execute(
        sa.select(Customer.external_id, CustomerSegment.entered_at, CustomerSegment.exited_at)
        .join(Customer, Customer.id == CustomerSegment.customer_id)
        .join(Segment, Segment.id == CustomerSegment.segment_id)
        .where(Segment.name == name)
        .order_by(Customer.external_id, CustomerSegment.entered_at)
    )
    return [tuple(r) for r in rows]


def _events(session) -> list[tuple[str, str]]:
    rows = session.execute(
        sa.select(DomainEvent.event_type, Customer.external_id)
        .join(Customer, Customer.id == DomainEvent.customer_id)
        .where(DomainEvent.event_type.like("segment.%"))
        .order_by(DomainEvent.id)
    )
    return [tuple(r) for r in rows]


def _set_score(engine, external_id: str, score: int) -> None:
    with transaction(engine) as s:
        cid = s.scalar(sa.select(Customer.id).where(Customer.external_id == external_id))
        s.execute(sa.update(HealthScore).where(HealthScore.customer_id == cid).values(overall_score=score))


def test_refresh_moves_customers_in_and_out_and_keeps_their_history(engine, book, admin):
    with transaction(engine) as s:
        create_segment(
            s,
            admin,
            name="Struggling",
            segment_type=SegmentType.DYNAMIC,
            description=None,
            document={"health_score": {"lt": 50}},
            now=_moment(DAY),
        )
        (result,) = refresh(s, admin, ["Struggling"], as_of=DAY, now=_moment(DAY))
    assert (result.members, result.entered, result.exited) == (2, 2, 0)
    with transaction(engine) as s:
        assert _stays(s, "Struggling") == [("M-1", _moment(DAY), None), ("W-1", _moment(DAY), None)]
        segment = s.scalar(sa.select(Segment).where(Segment.name == "Struggling"))
        assert segment.customer_count == 2
        assert segment.total_arr == 125000
        assert segment.avg_health_score == 37.5
        assert segment.refreshed_at == _moment(DAY)

    day2 = DAY + dt.timedelta(days=1)
    _set_score(engine, "W-1", 80)
    with transaction(engine) as s:
        (result,) = refresh(s, admin, None, as_of=day2, now=_moment(day2))
    assert (result.members, result.entered, result.exited) == (1, 0, 1)

    day3 = DAY + dt.timedelta(days=2)
    _set_score(engine, "W-1", 20)
    with transaction(engine) as s:
        refresh(s, admin, None, as_of=day3, now=_moment(day3))
        # The same moment again changes nothing.
        (again,) = refresh(s, admin, None, as_of=day3, now=_moment(day3))
    assert (again.members, again.entered, again.exited) == (2, 0, 0)
    with transaction(engine) as s:
        assert _stays(s, "Struggling") == [
            ("M-1", _moment(DAY), None),
            ("W-1", _moment(DAY), _moment(day2)),
            ("W-1", _moment(day3), None),
        ]
        assert _events(s) == [
            ("segment.entered", "M-1"),
            ("segment.entered", "W-1"),
            ("segment.exited", "W-1"),
            ("segment.entered", "W-1"),
        ]
        data = s.scalar(sa.select(DomainEvent.data).where(DomainEvent.event_type == "segment.exited"))
        assert data["segment"] == "Struggling"


def test_a_segment_built_on_another_is_refreshed_after_it(engine, book, admin):
    with transaction(engine) as s:
        # "Alpha" sorts first but depends on "Zeta": one refresh fills both.
        create_segment(
            s,
            admin,
            name="Zeta",
            segment_type=SegmentType.DYNAMIC,
            description=None,
            document={"plan": "enterprise"},
            now=_moment(DAY),
        )
        create_segment(
            s,
            admin,
            name="Alpha",
            segment_type=SegmentType.DYNAMIC,
            description=None,
            document={"in_segment": "Zeta", "arr": {"gte": 200000}},
            now=_moment(DAY),
        )
        results = refresh(s, admin, None, as_of=DAY, now=_moment(DAY))
        assert [r.segment for r in results] == ["Zeta", "Alpha"]
        assert [stay[0] for stay in _stays(s, "Alpha")] == ["E-3", "W-2"]
        with pytest.raises(BadInput, match="would depend on itself"):
            update_segment(s, admin, "Zeta", document={"in_segment": "Alpha"}, now=_moment(DAY))
        with pytest.raises(BadInput, match="cannot be deleted: the rules of Alpha name it"):
            delete_segment(s, admin, "Zeta", now=_moment(DAY))
        with pytest.raises(BadInput, match="in_segment names no segment 'Nope'"):
            update_segment(s, admin, "Alpha", document={"in_segment": "Nope"}, now=_moment(DAY))


def test_static_members_are_added_and_removed_by_hand(engine, book, admin):
    ana = Actor(name="ana", role=Role.CSM, user_id=book["ana"])
    with transaction(engine) as s:
        mia = resolve_actor(s, "mia")  # a manager of team East: E-1, E-2, E-3, M-1
        create_segment(
            s,
            admin,
            name="Beta programme",
            segment_type=SegmentType.STATIC,
            description="early access",
            document=None,
            now=_moment(DAY),
        )
        with pytest.raises(
            NotPermitted, match="changing a segment's members needs the manager or admin role"
        ):
            add_members(s, ana, "Beta programme", ["E-1"], as_of=DAY, now=_moment(DAY))
        assert add_members(s, mia, "Beta programme", ["E-1", "E-3"], as_of=DAY, now=_moment(DAY)) == (2, 0)
        assert add_members(s, mia, "Beta programme", ["E-1"], as_of=DAY, now=_moment(DAY)) == (0, 1)
        with pytest.raises(NotFound, match="no customer 'W-1' that you can see"):
            add_members(s, mia, "Beta programme", ["W-1"], as_of=DAY, now=_moment(DAY))
        later = _moment(DAY) + dt.timedelta(hours=2)
        assert remove_members(s, mia, "Beta programme", ["E-1", "E-2"], as_of=DAY, now=later) == (1, 1)
        assert _stays(s, "Beta programme") == [("E-1", _moment(DAY), later), ("E-3", _moment(DAY), None)]
        assert _events(s) == [
            ("segment.entered", "E-1"),
            ("segment.entered", "E-3"),
            ("segment.exited", "E-1"),
        ]
        segment = s.scalar(sa.select(Segment).where(Segment.name == "Beta programme"))
        assert (segment.customer_count, segment.total_arr) == (1, 300000)
        # A refresh leaves a static segment's members alone.
        (result,) = refresh(s, admin, ["Beta programme"], as_of=DAY, now=later)
        assert (result.members, result.entered, result.exited) == (1, 0, 0)


def test_who_may_do_what_and_what_each_sees(engine, book, admin):
    bo = Actor(name="bo", role=Role.CSM, user_id=book["bo"])
    with transaction(engine) as s:
        with pytest.raises(NotPermitted):
            create_segment(
                s,
                bo,
                name="Mine",
                segment_type=SegmentType.DYNAMIC,
                description=None,
                document={"arr": {"gt": 0}},
                now=_moment(DAY),
            )
        with pytest.raises(NotPermitted):
            refresh(s, bo, None, as_of=DAY, now=_moment(DAY))
        seen = preview(s, bo, {"arr": {"gte": 1}}, as_of=DAY)
        assert seen.count == 2 and {r.external_id for r in seen.sample} == {"W-1", "W-2"}
        assert seen.total_arr == 550000
        everyone = preview(s, admin, {"arr": {"gte": 1}}, as_of=DAY, sample=2)
        assert everyone.count == 6 and len(everyone.sample) == 2
        assert [r.external_id for r in everyone.sample] == ["W-2", "E-3"]


def test_overlap_counts_every_combination(engine, book, admin):
    with transaction(engine) as s:
        for name, rules in (("Enterprise", {"plan": "enterprise"}), ("Big", {"arr": {"gte": 100000}})):
            create_segment(
                s,
                admin,
                name=name,
                segment_type=SegmentType.DYNAMIC,
                description=None,
                document=rules,
                now=_moment(DAY),
            )
        create_segment(
            s,
            admin,
            name="Pro",
            segment_type=SegmentType.DYNAMIC,
            description=None,
            document={"plan": "pro"},
            now=_moment(DAY),
        )
        refresh(s, admin, None, as_of=DAY, now=_moment(DAY))
        rows = {r["members"]: (r["customers"], r["total_arr"]) for r in overlap(s, admin, ["Big", "Pro"])}
        assert rows["Big & Pro"] == (0, None)
        assert rows["Big only"] == (3, 920000)
        assert rows["Pro only"] == (3, 155000)
        three = {r["members"]: r["customers"] for r in overlap(s, admin, ["Enterprise", "Big", "Pro"])}
        assert three["Enterprise & Big & Pro"] == 0
        assert three["Enterprise & Big only"] == 3
        with pytest.raises(BadInput, match="two or three"):
            overlap(s, admin, ["Big"])


def test_a_segment_a_playbook_triggers_on_keeps_its_name(engine, book, admin):
    with transaction(engine) as s:
        create_segment(
            s,
            admin,
            name="Renewing",
            segment_type=SegmentType.DYNAMIC,
            description=None,
            document={"days_to_renewal": {"lte": 90}},
            now=_moment(DAY),
        )
        segment_id = s.scalar(sa.select(Segment.id).where(Segment.name == "Renewing"))
        s.add(
            Playbook(
                key="renewal_prep",
                name="Renewal Prep",
                category=PlaybookCategory.RENEWAL,
                trigger_segment_id=segment_id,
            )
        )
        s.flush()
        with pytest.raises(BadInput, match="cannot be renamed: it triggers the playbooks renewal_prep"):
            update_segment(s, admin, "Renewing", new_name="Renewals", now=_moment(DAY))
        with pytest.raises(BadInput, match="cannot be deleted: it triggers the playbooks renewal_prep"):
            delete_segment(s, admin, "Renewing", now=_moment(DAY))


def test_two_refreshes_at_once_take_turns(engine, book, admin, db_url):
    """The second refresh waits for the first to commit, then finds nothing
    to do (on SQLite, one writer at a time is the database's own rule)."""
    import threading

    if engine.dialect.name != "postgresql":
        pytest.skip("Postgres runs transactions side by side; SQLite serializes writers itself")
    from cs_cli.db.engine import session_factory

    with transaction(engine) as s:
        create_segment(
            s,
            admin,
            name="Struggling",
            segment_type=SegmentType.DYNAMIC,
            description=None,
            document={"health_score": {"lt": 50}},
            now=_moment(DAY),
        )
    first = session_factory(engine)()
    refresh(first, admin, None, as_of=DAY, now=_moment(DAY))  # holds the lock, not committed
    outcome: dict = {}

    def second() -> None:
        try:
            with transaction(engine) as s:
                outcome["result"] = refresh(s, admin, None, as_of=DAY, now=_moment(DAY))
        except Exception as exc:  # reported below, not lost in the thread
            outcome["error"] = exc

    thread = threading.Thread(target=second, daemon=True)
    thread.start()
    thread.join(0.5)
    assert thread.is_alive(), "the second refresh did not wait for the first"
    first.commit()
    first.close()
    thread.join(10)
    assert not thread.is_alive() and "error" not in outcome, outcome
    (result,) = outcome["result"]
    assert (result.members, result.entered, result.exited) == (2, 0, 0)
    with transaction(engine) as s:
        assert len(_stays(s, "Struggling")) == 2
