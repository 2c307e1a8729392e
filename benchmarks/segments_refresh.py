"""Benchmark: `cs segments refresh --all` over 50 dynamic segments on a
generated book.

    python benchmarks/segments_refresh.py --customers 100000 --events 10000000
    python benchmarks/segments_refresh.py --reuse        # the book is already built

Target (issue: segments, playbooks and tasks): Postgres, 100,000 customers,
50 dynamic segments refreshed in at most 10 s in all. Both the first refresh
(every member enters: a stay and an event each) and a steady-state one (a
day later, a few move) are timed as whole processes, start-up included.

The 50 segments mix every kind of rule: health bands, ARR bands, renewal
windows, plan, attributes (text, number, list), CSM, churn status, any/not
groups, usage aggregates over 7-90 day windows (10 of them) and segments
built on other segments (in_segment).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import sqlalchemy as sa
from harness import AS_OF, build_book
from measure import run_measured

from cs_cli.db.engine import make_engine, session_factory
from cs_cli.domain import Actor, SegmentType


def segment_rules() -> dict[str, dict]:
    rules: dict[str, dict] = {}
    for low in range(0, 100, 10):
        rules[f"health {low}-{low + 9}"] = {"health_score": {"between": [low, low + 9]}}
    for i, (low, high) in enumerate(
        [(0, 20000), (20000, 50000), (50000, 100000), (100000, 250000), (250000, 10**9)]
    ):
        rules[f"arr band {i}"] = {"arr": {"gte": low, "lt": high}}
    for days in (30, 60, 90, 180):
        rules[f"renewing in {days}"] = {"renewal_date": {"within_next_days": days}, "status": "active"}
    for plan in ("Starter", "Growth", "Enterprise"):
        rules[f"plan {plan}"] = {"plan": plan}
    rules["gold tier"] = {"attributes.tier": "gold"}
    rules["big companies"] = {"attributes.employees": {"gte": 2500}}
    rules["uses slack"] = {"attributes.integrations": {"contains": "slack"}}
    for csm in (2, 5, 8):
        rules[f"book of csm{csm}"] = {"csm": f"csm{csm}@example.com"}
    rules["churned"] = {"status": "churned"}
    rules["at risk, big"] = {"health_status": {"in": ["at_risk", "critical"]}, "arr": {"gte": 100000}}
    rules["healthy or tiny"] = {"any": [{"health_status": "healthy"}, {"seats": {"lt": 20}}]}
    rules["not enterprise, declining"] = {"not": {"plan": "Enterprise"}, "score_trend": "declining"}
    rules["quiet a week"] = {"days_since_last_login": {"gte": 7}}
    rules["low engagement"] = {"engagement_score": {"lt": 40}, "status": "active"}
    for days, feature in ((7, "reports"), (30, "reports"), (30, "export"), (90, "api"), (30, None)):
        usage = {"last_days": days, "gte": 5}
        if feature:
            usage["feature"] = feature
        rules[f"active {feature or 'any'} {days}d"] = {"usage": usage}
    rules["dormant 30d"] = {"usage": {"last_days": 30, "eq": 0}}
    rules["few users 30d"] = {"usage": {"last_days": 30, "measure": "active_users", "lte": 1}}
    rules["daily users 30d"] = {"usage": {"last_days": 30, "measure": "active_days", "gte": 20}}
    rules["heavy quantity 7d"] = {"usage": {"last_days": 7, "measure": "quantity", "gte": 40}}
    rules["renewal risk"] = {"in_segment": "renewing in 90", "not": {"in_segment": "health 80-89"}}
    rules["gold renewing"] = {"in_segment": ["gold tier"], "renewal_date": {"within_next_days": 120}}
    rules["tenure over a year"] = {"tenure_days": {"gt": 365}}
    rules["many seats"] = {"seats": {"gt": 300}}
    rules["improving"] = {"score_trend": "improving"}
    rules["support trouble"] = {"support_score": {"lt": 50}, "status": "active"}
    rules["reports fading 90d"] = {"usage": {"feature": "reports", "last_days": 90, "between": [1, 4]}}
    assert len(rules) == 50, len(rules)
    return rules


def enrich(url: str) -> None:
    """Give the generated customers plans, contract starts and attributes."""
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            """
            UPDATE customers SET
              plan = (ARRAY['Starter', 'Growth', 'Enterprise'])[1 + mod(id, 3)],
              contract_start = DATE '2026-11-01' - mod(id, 1500),
              attributes = jsonb_build_object(
                'tier', (ARRAY['bronze', 'silver', 'gold'])[1 + mod(id / 3, 3)],
                'employees', mod(id * 7919, 5000),
                'integrations',
                CASE WHEN mod(id, 4) = 0 THEN '["slack", "jira"]'::jsonb ELSE '["jira"]'::jsonb END)
            """
        )
        conn.exec_driver_sql("ANALYZE")
    engine.dispose()


def _scored(url: str) -> bool:
    engine = make_engine(url)
    with engine.connect() as conn:
        scored = conn.scalar(sa.text("SELECT count(*) FROM cs_health_scores"))
    engine.dispose()
    return bool(scored)


def create_segments(url: str) -> None:
    from cs_cli.services.segments.definitions import create_segment

    engine = make_engine(url)
    admin = Actor.system()
    moment = dt.datetime.combine(AS_OF, dt.time(), tzinfo=dt.UTC)
    with session_factory(engine)() as session:
        session.execute(sa.text("DELETE FROM cs_segments"))
        for name, rules in segment_rules().items():
            create_segment(
                session,
                admin,
                name=name,
                segment_type=SegmentType.DYNAMIC,
                description=None,
                document=rules,
                now=moment,
            )
        session.commit()
    # A clean slate, as autovacuum leaves it between hourly runs.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE")
    engine.dispose()


def cs(url: str, *args: str) -> tuple[float, int, str]:
    env = {**os.environ, "CS_DATABASE_URL": url, "CS_USER": "bench"}
    seconds, peak, stderr = run_measured([sys.executable, "-m", "cs_cli", *args], env)
    return seconds, peak, stderr.strip().splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/cs_bench_segments")
    parser.add_argument("--reuse", action="store_true", help="Use the book already in the database.")
    args = parser.parse_args()
    url = args.pg_url
    if not args.reuse:
        print(f"building {args.customers:,} customers, {args.events:,} events ...", file=sys.stderr)
        build_book(url, args.customers, args.events)
    enrich(url)
    if not _scored(url):
        print("scoring ...", file=sys.stderr)
        print(cs(url, "recalc", "--as-of", AS_OF.isoformat())[2], file=sys.stderr)
    create_segments(url)
    rows = []
    for label, day in (("first refresh", AS_OF), ("a day later", AS_OF + dt.timedelta(days=1))):
        seconds, peak, summary = cs(url, "segments", "refresh", "--all", "--as-of", day.isoformat())
        rows.append((label, seconds, peak, summary))
        print(f"{label}: {summary}", file=sys.stderr)
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    print(
        f"\n{dt.date.today()} on {machine}: {args.customers:,} customers, {args.events:,} events, 50 segments"
    )
    print("| run | wall s | peak RSS MB | summary |")
    print("|---|---|---|---|")
    for label, seconds, peak, summary in rows:
        print(f"| {label} | {seconds:.2f} | {peak} | {summary} |")


if __name__ == "__main__":
    main()
