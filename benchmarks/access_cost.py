"""Benchmark: what the audit trail and row-level security cost.

    python benchmarks/access_cost.py --url postgresql+psycopg://postgres@127.0.0.1:5432/cs_hist

On a book already built by benchmarks/history_book.py (100,000 customers,
50 CSMs of 2,000 customers each). Adds 1,000,000 tasks (once; about a
quarter open, each assigned to its customer's CSM) and gives the CSM
csm2 a database login role of its own (`cs users grant-db`). Then times
whole `cs` processes, median of --runs:

- `cs tasks list --mine`, `cs health list` and `cs health show` as csm2,
  and a one-day `cs recalc` as the admin, each
  - as the owner with the audit trail as shipped,
  - as the owner with every audit write turned into nothing (a patched
    process: the baseline for the audit's cost),
- the CSM's reads again connected as csm2's own role, where row-level
  security filters every table (the baseline: the owner, which the
  policies let through at once).

Targets (issue: identity, access and audit): the audit costs at most 15%
on `cs tasks list --mine`, `cs health list` and `cs recalc`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from history_book import AS_OF
from measure import run_measured
from sqlalchemy.engine import make_url

from cs_cli.db.engine import make_engine

ROLE = "cs_bench_csm2"
# A process whose audit writes do nothing: the same command, no trail.
NO_AUDIT = (
    "import sys; import cs_cli.services.audit as a;"
    " a.audit_many = lambda *args, **kwargs: None;"
    " from cs_cli.cli.app import main; sys.argv[0] = 'cs'; main()"
)
TASKS_SQL = """
INSERT INTO cs_tasks (customer_id, title, task_type, assigned_to_user_id, priority, status,
                      due_date, created_at, updated_at)
SELECT c.id, 'Task ' || g, (ARRAY['call','email','meeting','review','follow_up'])[1 + g %% 5],
       c.csm_id, (ARRAY['low','medium','medium','high','critical'])[1 + g %% 5],
       (ARRAY['completed','completed','completed','cancelled','pending','pending',
              'in_progress','blocked'])[1 + (g * 7) %% 8],
       DATE '{as_of}' - 200 + (g %% 260), now(), now()
FROM generate_series(1, 1000000) AS g
JOIN customers c ON c.id = 1 + (g * 37) %% 100000
"""


def prepare(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        tasks = conn.exec_driver_sql("SELECT count(*) FROM cs_tasks").scalar_one()
        if tasks < 1_000_000:
            conn.exec_driver_sql(TASKS_SQL.format(as_of=AS_OF.isoformat()))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE cs_tasks")
    engine.dispose()
    cs(url, "users", "grant-db", "csm2", ROLE)


def cs(url: str, *args: str, user: str | None = "bench", audit: bool = True) -> float:
    env = {**os.environ, "CS_DATABASE_URL": url}
    env.pop("CS_USER", None)
    if user is not None:
        env["CS_USER"] = user
    if not audit:
        command = [sys.executable, "-c", NO_AUDIT, *args]
    else:
        command = [sys.executable, "-m", "cs_cli", *args]
    seconds, _peak, _err = run_measured(command, env)
    return seconds


def medians(runs: int, variants: dict[str, tuple[str, dict]], argv: list[str]) -> dict[str, float]:
    """Each variant (url, cs keywords) run `runs` times, taking turns so a
    change in the machine's load falls on all of them alike; the median of each."""
    for url, kwargs in variants.values():
        cs(url, *argv, **kwargs)  # warm the cache
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(runs):
        for name, (url, kwargs) in variants.items():
            times[name].append(cs(url, *argv, **kwargs))
    return {name: statistics.median(t) for name, t in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", required=True)
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    prepare(args.url)
    as_csm = make_url(args.url).set(username=ROLE).render_as_string(hide_password=False)
    day = AS_OF.isoformat()
    commands = {
        "cs tasks list --mine (csm2)": (["tasks", "list", "--mine"], "csm2"),
        "cs health list (csm2)": (["health", "list"], "csm2"),
        "cs health show C0000050 (csm2)": (["health", "show", "C0000050"], "csm2"),
        "cs recalc --as-of (admin)": (["recalc", "--as-of", day], "bench"),
    }
    rows = []
    for name, (argv, user) in commands.items():
        runs = 3 if argv[0] == "recalc" else args.runs
        variants = {"shipped": (args.url, {"user": user}), "bare": (args.url, {"user": user, "audit": False})}
        if user != "bench":
            # Connected as the CSM's own role: the identity is the role's user.
            variants["rls"] = (as_csm, {"user": None})
        got = medians(runs, variants, argv)
        rows.append((name, got["bare"], got["shipped"], got.get("rls")))
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d")
    print(f"{stamp}, {platform.processor() or platform.machine()}, {os.cpu_count()} cores")
    print("| command | no audit s | shipped s | audit cost | own role (RLS) s | RLS cost |")
    print("|---|---|---|---|---|---|")
    for name, bare, shipped, rls in rows:
        rls_cells = "- | -" if rls is None else f"{rls:.3f} | {100 * (rls / shipped - 1):+.0f}%"
        print(f"| {name} | {bare:.3f} | {shipped:.3f} | {100 * (shipped / bare - 1):+.0f}% | {rls_cells} |")


if __name__ == "__main__":
    main()
