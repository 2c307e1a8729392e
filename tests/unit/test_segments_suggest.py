"""`suggest` and `accept` on a book with two planted groups, on both dialects."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from fixtures.planted_book import AS_OF, STRUGGLING, THRIVING, build_planted_book
from sklearn.metrics import adjusted_rand_score

from cs_cli import rules
from cs_cli.db.engine import transaction
from cs_cli.db.models import Customer, CustomerSegment, HealthScoreHistory, Segment
from cs_cli.domain import HealthStatus, SegmentType
from cs_cli.errors import BadInput, CsError
from cs_cli.services.segments.refresh import refresh
from cs_cli.services.segments.suggest import accept, parse_k, suggest, suggest_with_members

NOW = dt.datetime.combine(AS_OF, dt.time(12), tzinfo=dt.UTC)


def _planted(ext: str) -> str:
    return "thriving" if ext in THRIVING else "struggling"


def test_suggest_finds_the_planted_groups_with_rules_that_match_them(engine, admin):
    build_planted_book(engine)
    with transaction(engine) as s:
        found, members = suggest_with_members(s, admin, k=None, focus=None, as_of=AS_OF)
    assert found.customers == 40  # the churned account is not in the active book
    assert found.k == 2 and found.k_chosen_by == "silhouette"
    assert found.silhouettes[2] == max(found.silhouettes.values())
    assert set(found.silhouettes) == set(range(2, 9))
    assert "sentiment_90d" in found.features
    ids = sorted(members)
    assert "X-1" not in members
    assert adjusted_rand_score([_planted(e) for e in ids], [members[e] for e in ids]) == 1.0
    # Largest first without a focus: the 24 thriving, then the 16 struggling.
    first, second = found.suggestions
    assert (first.number, first.customers, second.number, second.customers) == (1, 24, 2, 16)
    for s in found.suggestions:
        rules.parse_document(s.rules)  # valid in the rule language
        assert s.rules["all"][0] == {"status": "active"}
        assert (s.precision, s.recall, s.confidence) == (1.0, 1.0, 1.0)
    assert "High health" in first.name or "Heavy use" in first.name or "Large ARR" in first.name
    assert second.churn_risk == 1.0 and first.churn_risk == 0.0  # share at risk or critical
    assert "16 customers (40% of the active book)" in second.reasoning
    assert "Churn risk 100% (book 40%; share at risk or critical)" in second.reasoning
    assert "ARR 440k in total, 28k on average" in second.reasoning


def test_the_same_book_gives_the_same_suggestions(engine, admin):
    build_planted_book(engine)
    with transaction(engine) as s:
        once = suggest(s, admin, k=3, focus="expansion", as_of=AS_OF)
        again = suggest(s, admin, k=3, focus="expansion", as_of=AS_OF)
    assert once == again
    assert once.k == 3 and once.k_chosen_by == "given" and len(once.suggestions) == 3


def test_focus_churn_lists_the_riskiest_first(engine, admin):
    build_planted_book(engine)
    with transaction(engine) as s:
        found = suggest(s, admin, k=2, focus="churn", as_of=AS_OF)
    assert [x.customers for x in found.suggestions] == [16, 24]
    assert found.suggestions[0].churn_risk == 1.0


def test_an_accepted_suggestion_refreshes_to_its_cluster(engine, admin):
    build_planted_book(engine)
    with transaction(engine) as s:
        row, chosen = accept(s, admin, 2, name="Struggling", k=None, focus=None, as_of=AS_OF, now=NOW)
    assert row.segment_type == SegmentType.AI_GENERATED
    assert row.ai_confidence == 1.0 and row.ai_reasoning == chosen.reasoning
    assert row.rules == chosen.rules
    with transaction(engine) as s:
        results = refresh(s, admin, ["Struggling"], as_of=AS_OF, now=NOW)
    assert [(r.members, r.entered, r.error) for r in results] == [(16, 16, None)]
    with engine.connect() as conn:
        members = conn.scalars(
            sa.select(Customer.external_id)
            .join(CustomerSegment, CustomerSegment.customer_id == Customer.id)
            .join(Segment, Segment.id == CustomerSegment.segment_id)
            .where(Segment.name == "Struggling", CustomerSegment.exited_at.is_(None))
        ).all()
    assert sorted(members) == STRUGGLING


def test_accept_refuses_a_number_it_did_not_suggest(engine, admin):
    build_planted_book(engine)
    with transaction(engine) as s, pytest.raises(BadInput, match="1 to 2, not 3"):
        accept(s, admin, 3, name="X", k=2, focus=None, as_of=AS_OF, now=NOW)


def test_too_few_customers_is_said_plainly(engine, admin, book):
    with transaction(engine) as s, pytest.raises(CsError) as caught:
        suggest(s, admin, k=None, focus=None, as_of=AS_OF)
    assert caught.value.exit_code == 1
    assert caught.value.message == (
        "too few active customers to suggest segments: 6 as of 2026-11-01, and clustering needs at least 30"
    )


def test_as_of_before_the_book_began_has_no_one(engine, admin):
    build_planted_book(engine)
    with transaction(engine) as s, pytest.raises(CsError, match="too few active customers"):
        suggest(s, admin, k=None, focus=None, as_of=AS_OF - dt.timedelta(days=2000))


@pytest.mark.parametrize(
    ("text", "expected"), [(None, None), ("auto", None), ("AUTO", None), ("2", 2), ("8", 8)]
)
def test_parse_k(text, expected):
    assert parse_k(text) == expected


@pytest.mark.parametrize("text", ["1", "9", "0", "-3", "many", "2.5"])
def test_parse_k_refuses(text):
    with pytest.raises(BadInput, match="--k is a number from 2 to 8 or 'auto'"):
        parse_k(text)


def test_as_of_reads_the_scores_and_usage_of_that_day(engine, admin):
    build_planted_book(engine)
    earlier = AS_OF - dt.timedelta(days=30)
    with transaction(engine) as s:
        ids = s.scalars(sa.select(Customer.id).where(Customer.external_id != "X-1")).all()
        s.add_all(
            HealthScoreHistory(
                customer_id=i, as_of=earlier, overall_score=50, health_status=HealthStatus.AT_RISK
            )
            for i in ids
        )
    with transaction(engine) as s:
        then = suggest(s, admin, k=2, focus=None, as_of=earlier)
        now = suggest(s, admin, k=2, focus=None, as_of=AS_OF)
    # A month before, everyone scored 50 and no one had used the product
    # yet: neither can tell customers apart, so neither is clustered on.
    assert "health_score" not in then.features and "active_days_30" not in then.features
    assert {x.profile["health_score"] for x in then.suggestions} == {50.0}
    assert {x.profile["active_days_30"] for x in then.suggestions} == {0.0}
    assert {x.churn_risk for x in then.suggestions} == {1.0}
    # On the day, the current scores (newer than that history) count.
    assert "health_score" in now.features
    assert sorted(round(x.profile["health_score"]) for x in now.suggestions) == [34, 89]
