"""A year of a book of business, as a real one looks, for timing history
(backfills, backtests) and for judging scores against real churn:

- activity is heavy-tailed: each customer's yearly events follow a lognormal
  (median a few tens, a long tail of thousands), and a few percent have none;
- events are written in the order they arrived (day by day, by time);
- customers start over three years, some during the year (new accounts);
- about one in eight churns during the year: its use fades over the two
  months before (not always), its champion may leave, its tickets and NPS
  sour, and nothing happens after it churned;
- some customers' ARR and seats change during the year (a second version of
  their facts), and event names include errors and failed exports.

    python benchmarks/history_book.py --customers 100000 --events 10000000 --url postgresql+psycopg://...

Deterministic for a seed. COPY on Postgres, executemany on SQLite.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from harness import _Sink, fresh_database

AS_OF = dt.date(2026, 11, 1)
YEAR = 365
FEATURES = [
    "login",
    "dashboard_view",
    "report_run",
    "report_export",
    "api_call",
    "workflow_run",
    "integration_sync",
    "alert_configured",
    "user_invited",
    "search",
    "comment",
    "file_upload",
    "admin_settings",
    "error",
    "export_failed",
]
# How often each name occurs: a few common, a long tail; errors now and then.
WEIGHTS = np.array([30, 18, 10, 5, 12, 6, 4, 1, 1, 8, 3, 2, 1, 3, 1], dtype=float)
WEIGHTS /= WEIGHTS.sum()
PLANS = ["Starter", "Growth", "Enterprise"]
CONTRACTS = ["Month-to-month", "One year", "Two year"]


def _ts(moment: dt.datetime, postgres: bool) -> str:
    return moment.isoformat(" ") + "+00" if postgres else moment.isoformat(" ", "microseconds")


def build(url: str, customers: int, events: int, seed: int = 5) -> dict[str, float]:
    """Write the book; returns seconds per part."""
    rng = np.random.default_rng(seed)
    engine = fresh_database(url)
    postgres = engine.dialect.name == "postgresql"
    raw = engine.raw_connection()
    conn = raw.driver_connection
    first_day = AS_OF - dt.timedelta(days=YEAR - 1)
    midnight0 = dt.datetime.combine(first_day, dt.time())
    timings: dict[str, float] = {}
    t, f = (True, False) if postgres else (1, 0)
    n = customers

    # -- who the customers are ------------------------------------------------
    started = time.perf_counter()
    new = rng.random(n) < 0.12  # started during the year
    # Days from the year's first day.
    start_offset = np.where(new, rng.integers(0, YEAR - 20, n), rng.integers(-3 * YEAR, -1, n))
    churns = (rng.random(n) < 0.13) & (start_offset < YEAR - 90)
    churn_day = np.where(churns, np.maximum(start_offset + 30, rng.integers(20, YEAR, n)), 10**6)
    churns &= churn_day < YEAR
    churn_day = np.where(churns, churn_day, 10**6)
    fades = churns & (rng.random(n) < 0.7)
    weight = rng.lognormal(0.0, 1.8, n)
    weight[rng.random(n) < 0.03] = 0.0  # never used the product
    arr = np.round(rng.lognormal(10.5, 1.0, n), 2)
    seats = np.maximum(3, np.round(arr / rng.uniform(800, 2500, n))).astype(int)

    users = _Sink(
        conn,
        postgres,
        "api_users",
        ["id", "email", "login", "name", "role", "is_active", "notify_preference", "created_at"],
    )
    now = _ts(dt.datetime.combine(AS_OF, dt.time(6)), postgres)
    users.add(1, "bench@example.com", "bench", "Bench", "admin", t, "none", now)
    for u in range(2, 52):
        users.add(u, f"csm{u}@example.com", f"csm{u}", f"CSM {u}", "csm", t, "none", now)
    users.flush()
    cust = _Sink(
        conn,
        postgres,
        "customers",
        [
            "id",
            "external_id",
            "name",
            "arr",
            "plan",
            "seats",
            "contract_start",
            "renewal_date",
            "status",
            "churned_at",
            "csm_id",
            "attributes",
            "created_at",
        ],
    )
    history = _Sink(
        conn,
        postgres,
        "customer_history",
        [
            "customer_id",
            "effective_at",
            "recorded_at",
            "arr",
            "plan",
            "seats",
            "contract_start",
            "renewal_date",
            "status",
            "churned_at",
            "csm_id",
            "attributes",
        ],
        after=cust,
    )
    contacts = _Sink(
        conn,
        postgres,
        "contacts",
        [
            "id",
            "external_id",
            "customer_id",
            "name",
            "is_champion",
            "is_exec_sponsor",
            "left_at",
            "created_at",
        ],
        after=cust,
    )
    changes = rng.random(n) < 0.2
    change_day = rng.integers(30, YEAR - 5, n)
    for i in range(n):
        c = i + 1
        start = first_day + dt.timedelta(days=int(start_offset[i]))
        plan = PLANS[int(rng.integers(0, 3))]
        contract = CONTRACTS[int(rng.choice(3, p=[0.5, 0.3, 0.2]))]
        attributes = json.dumps({"Contract": contract, "employees": int(rng.integers(5, 5000))})
        renewal = start + dt.timedelta(days=365 * ((AS_OF - start).days // 365 + 1))
        churned = bool(churns[i])
        churned_at = (
            _ts(midnight0 + dt.timedelta(days=int(churn_day[i]), hours=15), postgres) if churned else None
        )
        recorded = dt.datetime.combine(max(start, first_day - dt.timedelta(days=30)), dt.time(9))
        seats_now, arr_now = int(seats[i]), float(arr[i])
        versions = [(recorded, arr_now, seats_now, "active", None)]
        if changes[i] and change_day[i] < min(churn_day[i], YEAR) and start_offset[i] < change_day[i]:
            grown = float(round(arr_now * rng.uniform(0.7, 1.6), 2))
            moment = midnight0 + dt.timedelta(days=int(change_day[i]), hours=9)
            versions.append((moment, grown, max(3, int(seats_now * grown / arr_now)), "active", None))
        if churned:
            last = versions[-1]
            versions.append(
                (
                    midnight0 + dt.timedelta(days=int(churn_day[i]), hours=16),
                    last[1],
                    last[2],
                    "churned",
                    churned_at,
                )
            )
        final = versions[-1]
        csm = 2 + c % 50
        cust.add(
            c,
            f"C{c:07d}",
            f"Customer {c}",
            f"{final[1]:.2f}",
            plan,
            final[2],
            start.isoformat(),
            renewal.isoformat(),
            final[3],
            final[4],
            csm,
            attributes,
            _ts(recorded, postgres),
        )
        for moment, a, s, status, when in versions:
            history.add(
                c,
                _ts(moment, postgres),
                _ts(moment, postgres),
                f"{a:.2f}",
                plan,
                s,
                start.isoformat(),
                renewal.isoformat(),
                status,
                when,
                csm,
                attributes,
            )
        leaves = churned and rng.random() < 0.5
        left = (
            _ts(midnight0 + dt.timedelta(days=int(max(churn_day[i] - rng.integers(10, 120), 0))), postgres)
            if leaves
            else None
        )
        for k in range(3):
            contacts.add(
                c * 3 + k,
                f"P{c:07d}-{k}",
                c,
                f"Person {c}-{k}",
                t if k == 0 else f,
                t if k == 1 else f,
                left if k == 0 else None,
                _ts(recorded, postgres),
            )
    for sink in (cust, history, contacts):
        sink.flush()
    timings["customers, versions, contacts"] = time.perf_counter() - started

    # -- usage, day by day, in arrival order ------------------------------------
    started = time.perf_counter()
    active_from = np.maximum(start_offset, 0)
    active_to = np.minimum(churn_day, YEAR)
    span = np.maximum(active_to - active_from, 1)
    per_day = weight / span
    scale = events / max(1.0, (per_day * span).sum())
    per_day *= scale
    ev = _Sink(
        conn, postgres, "usage_events", ["customer_id", "contact_id", "event_name", "occurred_at", "quantity"]
    )
    written = 0
    ids = np.arange(1, n + 1)
    for d in range(YEAR):
        live = (active_from <= d) & (d < active_to)
        rate = np.where(live, per_day, 0.0)
        # Fading churners: use falls to a fifth over their last 60 days.
        left = churn_day - d
        fading = fades & (left > 0) & (left <= 60)
        rate = np.where(fading, rate * (0.2 + 0.8 * left / 60), rate)
        counts = rng.poisson(rate)
        who = np.repeat(ids, counts)
        if not len(who):
            continue
        seconds = np.sort(rng.integers(0, 86400, len(who)))
        order = rng.permutation(len(who))
        who = who[order]
        names = rng.choice(len(FEATURES), len(who), p=WEIGHTS)
        contact = who * 3 + rng.integers(0, 3, len(who))
        quantity = 1 + rng.integers(0, 3, len(who))
        day0 = midnight0 + dt.timedelta(days=d)
        for k in range(len(who)):
            ev.add(
                int(who[k]),
                int(contact[k]),
                FEATURES[names[k]],
                _ts(day0 + dt.timedelta(seconds=int(seconds[k])), postgres),
                int(quantity[k]),
            )
        written += len(who)
    ev.flush()
    timings[f"events ({written:,})"] = time.perf_counter() - started

    # -- touchpoints, tickets, invoices, NPS --------------------------------------
    started = time.perf_counter()
    tps = _Sink(
        conn, postgres, "cs_touchpoints", ["customer_id", "touchpoint_type", "occurred_at", "created_at"]
    )
    tickets = _Sink(
        conn,
        postgres,
        "support_tickets",
        [
            "external_id",
            "customer_id",
            "priority",
            "status",
            "opened_at",
            "closed_at",
            "escalated",
            "escalated_at",
            "satisfaction",
            "created_at",
        ],
    )
    invoices = _Sink(
        conn,
        postgres,
        "invoices",
        ["external_id", "customer_id", "amount", "currency", "issued_on", "due_on", "paid_on", "created_at"],
    )
    nps = _Sink(
        conn, postgres, "nps_responses", ["external_id", "customer_id", "score", "responded_at", "created_at"]
    )
    kinds = ["call", "meeting", "email_sent", "email_opened", "webinar", "qbr"]
    for i in range(n):
        c = i + 1
        lo, hi = int(active_from[i]), int(active_to[i])
        if hi <= lo:
            continue
        sour = bool(churns[i])
        for _ in range(int(rng.poisson(8 * (hi - lo) / YEAR))):
            day = int(rng.integers(lo, hi))
            tps.add(
                c,
                kinds[int(rng.integers(0, 6))],
                _ts(midnight0 + dt.timedelta(days=day, hours=10), postgres),
                now,
            )
        for k in range(int(rng.poisson((5 if sour else 3) * (hi - lo) / YEAR))):
            opened = midnight0 + dt.timedelta(days=int(rng.integers(lo, hi)), hours=int(rng.integers(8, 18)))
            closed = opened + dt.timedelta(days=int(rng.integers(0, 12)))
            is_closed = closed < midnight0 + dt.timedelta(days=YEAR) and rng.random() < 0.93
            escalated = rng.random() < (0.12 if sour else 0.04)
            tickets.add(
                f"T{c}-{k}",
                c,
                "normal",
                "closed" if is_closed else "open",
                _ts(opened, postgres),
                _ts(closed, postgres) if is_closed else None,
                t if escalated else f,
                _ts(opened + dt.timedelta(days=1), postgres) if escalated else None,
                int(rng.integers(1, 4) if sour else rng.integers(3, 6)) if is_closed else None,
                now,
            )
        for k, day in enumerate(range(lo, hi, 91)):
            issued = first_day + dt.timedelta(days=day)
            due = issued + dt.timedelta(days=30)
            late = rng.random() < (0.35 if sour else 0.08)
            paid = due + dt.timedelta(days=int(rng.integers(1, 40)) if late else -int(rng.integers(0, 20)))
            paid_text = paid.isoformat() if paid <= AS_OF else None
            invoices.add(
                f"I{c}-{k}",
                c,
                f"{arr[i] / 4:.2f}",
                "USD",
                issued.isoformat(),
                due.isoformat(),
                paid_text,
                now,
            )
        for k in range(int(rng.poisson(1.5 * (hi - lo) / YEAR))):
            day = int(rng.integers(lo, hi))
            score = int(np.clip(rng.normal(5 if sour else 8, 2), 0, 10))
            nps.add(f"N{c}-{k}", c, score, _ts(midnight0 + dt.timedelta(days=day, hours=12), postgres), now)
    for sink in (tps, tickets, invoices, nps):
        sink.flush()
    timings["touchpoints, tickets, invoices, NPS"] = time.perf_counter() - started
    raw.commit()
    raw.close()
    with engine.begin() as c:
        if postgres:
            c.exec_driver_sql("SELECT setval('customers_id_seq', (SELECT max(id) FROM customers))")
            c.exec_driver_sql("SELECT setval('contacts_id_seq', (SELECT max(id) FROM contacts))")
            c.exec_driver_sql("SELECT setval('api_users_id_seq', (SELECT max(id) FROM api_users))")
        c.exec_driver_sql("ANALYZE")
    engine.dispose()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--url", required=True)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    for part, seconds in build(args.url, args.customers, args.events, args.seed).items():
        print(f"{part}: {seconds:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
