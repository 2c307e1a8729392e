"""Segment refresh at the documented limits, on both dialects: lists of
10,000 values in many segments at once never meet the database's limit on
bound parameters, and one segment that cannot be refreshed is reported and
skipped while the others are refreshed."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from cs_cli.db.engine import transaction
from cs_cli.db.models import Segment
from cs_cli.domain import SegmentType
from cs_cli.rules.parse import MAX_LIST
from cs_cli.services.segments.definitions import create_segment
from cs_cli.services.segments.refresh import refresh

DAY = dt.date(2025, 1, 10)
NOW = dt.datetime(2025, 1, 10, 6, tzinfo=dt.UTC)
# 26 lists of 10,000 values are 260,000 values: past Postgres' 65,535 bound
# parameters a statement and SQLite's 250,000 (32,766 in older builds).
SEGMENTS = 26


def _create(s, admin, name: str, document: dict) -> None:
    create_segment(
        s, admin, name=name, segment_type=SegmentType.DYNAMIC, description=None, document=document, now=NOW
    )


def test_many_segments_with_the_longest_lists_refresh_together(engine, book, admin):
    with transaction(engine) as s:
        for i in range(SEGMENTS):
            ids = [f"X-{i}-{n}" for n in range(MAX_LIST - 2)] + ["E-1", "W-1"]
            if i % 2:
                _create(s, admin, f"Listed {i:02}", {"external_id": {"in": ids}})
            else:
                # not_in, and numbers: every customer but E-1 (250 seats).
                seats = [*range(100_000, 100_000 + MAX_LIST - 1), 250]
                _create(s, admin, f"Listed {i:02}", {"seats": {"not_in": seats}})
    with transaction(engine) as s:
        results = refresh(s, admin, None, as_of=DAY, now=NOW)
    assert len(results) == SEGMENTS
    members = {r.segment: r.members for r in results}
    assert members["Listed 01"] == 2  # E-1 and W-1
    # U-1 has no seats: not_in matches it (see docs/segments.md).
    assert members["Listed 00"] == 6
    assert all(r.error is None for r in results)


def test_a_segment_that_cannot_be_refreshed_is_skipped_and_the_others_are_refreshed(engine, book, admin):
    with transaction(engine) as s:
        _create(s, admin, "Good", {"plan": "enterprise"})
        _create(s, admin, "Broken", {"plan": "pro"})
        _create(s, admin, "Also good", {"plan": "pro"})
        # Rules saved by an older version, which this one no longer reads.
        s.execute(sa.update(Segment).where(Segment.name == "Broken").values(rules={"helth_score": {"lt": 5}}))
    with transaction(engine) as s:
        results = refresh(s, admin, None, as_of=DAY, now=NOW)
    by_name = {r.segment: r for r in results}
    assert by_name["Good"].members == 3 and by_name["Good"].error is None
    assert by_name["Also good"].members == 3 and by_name["Also good"].error is None
    assert by_name["Broken"].members == 0
    assert "unknown field 'helth_score'" in by_name["Broken"].error


def test_a_segment_the_database_refuses_is_skipped_and_the_others_are_refreshed(
    engine, book, admin, monkeypatch
):
    import cs_cli.services.segments.refresh as refreshing

    with transaction(engine) as s:
        _create(s, admin, "Good", {"plan": "enterprise"})
        _create(s, admin, "Refused", {"plan": "pro"})
    compile_rules = refreshing.compile_rules

    def one_refused(nodes, **kw):
        # A condition both databases refuse when they run it (malformed
        # JSON on SQLite, an unknown function on Postgres), for the segment
        # on "pro" alone: as a bad value in the book would.
        source, conditions = compile_rules(nodes, **kw)
        refused = sa.func.json_extract(sa.literal("{"), "$.a") == 1
        return source, [refused if "pro" in repr(n) else c for n, c in zip(nodes, conditions, strict=True)]

    monkeypatch.setattr(refreshing, "compile_rules", one_refused)
    with transaction(engine) as s:
        results = refresh(s, admin, None, as_of=DAY, now=NOW)
    by_name = {r.segment: r for r in results}
    assert (by_name["Good"].members, by_name["Good"].entered, by_name["Good"].error) == (3, 3, None)
    assert by_name["Refused"].members == 0 and by_name["Refused"].entered == 0
    assert by_name["Refused"].error.startswith("the database refused it: ")
    with transaction(engine) as s:
        assert s.scalar(sa.select(Segment.customer_count).where(Segment.name == "Good")) == 3
