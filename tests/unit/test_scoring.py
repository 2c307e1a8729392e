"""Health scoring by hand: the formulas of docs/health.md, checked."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cs_cli.domain import HealthStatus
from cs_cli.errors import FileError
from cs_cli.services.health import scoring
from cs_cli.services.health.scoring import Signals
from cs_cli.specs.scorecard import MEASURES, Scorecard, load_scorecard

DEFAULT = load_scorecard().card

SIMPLE_PATH = Path(__file__).parent.parent / "fixtures" / "simple_scorecard.yaml"
SIMPLE = SIMPLE_PATH.read_text()


@pytest.fixture
def simple(tmp_path: Path) -> Scorecard:
    path = tmp_path / "simple.yaml"
    path.write_text(SIMPLE)
    return load_scorecard(path).card


def test_weighted_components_and_multipliers(simple):
    # adoption 60, relationship (0 + 100) / 2 = 50, support 50:
    # (50*60 + 30*50 + 20*50) / 100 = 55; open escalation x0.9 = 49.5 -> 49.
    raw = {"active_days": 0.4, "champion": 0.0, "nps": 8.0, "open_escalations": 1}
    result = scoring.score(simple, raw, Signals(open_escalations=1), churned=False)
    assert result.components == {
        "adoption": 60,
        "engagement": None,
        "relationship": 50,
        "financial": None,
        "support": 50,
    }
    assert result.base == 55.0
    assert result.multipliers == [("open_escalation", 0.9)]
    assert result.overall == 49
    assert result.status == HealthStatus.CRITICAL
    assert result.contributions == {"adoption": 30.0, "relationship": 15.0, "support": 10.0}
    assert result.missing == []


def test_missing_component_weight_is_shared_out(simple):
    # No relationship data: adoption 100 and support 0 share 50:20.
    raw = {"active_days": 0.9, "open_escalations": 3}
    result = scoring.score(simple, raw, Signals(), churned=False)
    assert result.missing == ["relationship"]
    assert result.base == pytest.approx(50 / 70 * 100, abs=0.01)
    assert result.overall == 71
    assert result.measures["nps"] == {"raw": None, "score": None}


def test_every_multiplier_and_their_product(simple):
    raw = {"active_days": 0.9, "champion": 1.0, "nps": 9.0, "open_escalations": 0}
    plain = scoring.score(simple, raw, Signals(), churned=False)
    assert plain.overall == 100 and plain.status == HealthStatus.HEALTHY
    # Renewal strictly within 30 days.
    assert scoring.score(simple, raw, Signals(days_to_renewal=29), churned=False).overall == 95
    assert scoring.score(simple, raw, Signals(days_to_renewal=30), churned=False).overall == 100
    assert scoring.score(simple, raw, Signals(days_to_renewal=-3), churned=False).overall == 100
    assert scoring.score(simple, raw, Signals(champion_left_recently=True), churned=False).overall == 85
    all_three = Signals(days_to_renewal=5, open_escalations=2, champion_left_recently=True)
    # 100 * 0.95 * 0.90 * 0.85 = 72.675 -> 72
    assert scoring.score(simple, raw, all_three, churned=False).overall == 72


@pytest.mark.parametrize(
    ("overall", "status"),
    [(100, "healthy"), (80, "healthy"), (79, "at_risk"), (60, "at_risk"), (59, "critical"), (0, "critical")],
)
def test_status_boundaries(overall, status):
    assert scoring.status_for(DEFAULT, overall, churned=False).value == status
    assert scoring.status_for(DEFAULT, overall, churned=True) == HealthStatus.CHURNED


def test_no_data_no_score(simple):
    assert scoring.score(simple, {}, Signals(), churned=False) is None


measure_values = st.one_of(st.none(), st.floats(min_value=-1e6, max_value=1e6, allow_nan=False))


@given(
    raw=st.fixed_dictionaries({name: measure_values for name in MEASURES}),
    renewal=st.one_of(st.none(), st.integers(-400, 400)),
    escalations=st.integers(0, 5),
    left=st.booleans(),
)
def test_scores_stay_within_0_and_100(raw, renewal, escalations, left):
    signals = Signals(days_to_renewal=renewal, open_escalations=escalations, champion_left_recently=left)
    result = scoring.score(DEFAULT, raw, signals, churned=False)
    if result is not None:
        assert 0 <= result.overall <= 100
        assert all(v is None or 0 <= v <= 100 for v in result.components.values())


@given(
    low=st.floats(min_value=0, max_value=1),
    more=st.floats(min_value=0, max_value=1),
    days=st.floats(min_value=0, max_value=1),
    users=st.floats(min_value=0, max_value=1),
)
def test_more_usage_never_lowers_adoption(low, more, days, users):
    from cs_cli.specs.scorecard import Component

    high = min(1.0, low + more)
    before, _ = scoring.component_score(
        DEFAULT, Component.ADOPTION, {"feature_breadth": low, "active_days": days, "active_users": users}
    )
    after, _ = scoring.component_score(
        DEFAULT,
        Component.ADOPTION,
        {
            "feature_breadth": high,
            "active_days": min(1.0, days + more),
            "active_users": min(1.0, users + more),
        },
    )
    assert after >= before


@pytest.mark.parametrize(
    ("old", "new", "where", "reason"),
    [
        (
            "weights: {adoption: 50, relationship: 30, support: 20}",
            "weights: {adoption: 50, relationship: 30, support: 10}",
            ":2:",
            "weights: weights must sum to 100, not 90",
        ),
        (
            "{from: 0.3, to: 0.6, score: 60}",
            "{from: 0.2, to: 0.6, score: 60}",
            ":9:",
            "bands 1 and 2 overlap",
        ),
        ("{from: 0.6, score: 100}", "{from: 0.7, score: 100}", ":9:", "gap between bands 2 and 3"),
        ("window_days: 10", "window_days: -10", ":8:", "window_days: Input should be greater than 0"),
        ("      active_days:", "      active_dayz:", ":6:", "unknown measure 'active_dayz'"),
        (
            "open_escalations: {weight: 1,",
            "open_escalations: {weight: 1, colour: red,",
            ":16:",
            "unknown key",
        ),
        ("champion: {weight: 1,", "csat: {weight: 1, window_days: 9,", ":12:", "csat: belongs to support"),
    ],
)
def test_bad_scorecards_name_file_line_and_key(tmp_path, old, new, where, reason):
    assert old in SIMPLE
    path = tmp_path / "bad.yaml"
    path.write_text(SIMPLE.replace(old, new, 1))
    with pytest.raises(FileError) as info:
        load_scorecard(path)
    message = str(info.value)
    assert message.startswith(f"{path}{where}"), message
    assert reason in message
