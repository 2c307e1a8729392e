"""Benchmark: how well `cs expansion` and `cs nps` predict, each beside its
baselines on the same test days.

The book is the demo at scale (`cs demo --customers N`): a third of its
healthy accounts expand (ARR and seats up 15-60%) after their usage has
grown for two months; NPS responses come every few months, scored around
what the account's story makes likely. Both are run as a user runs them
(`cs ... evaluate --format json`).

- expansion: ROC AUC (95% interval) of the model, the health score, and a
  logistic regression on 28-day events and tenure.
- nps: mean absolute error (95% interval) of the model, of "the same as the
  last response" and of the book's mean response (the model on the same
  responses as each baseline).

    python benchmarks/prediction_quality.py --url postgresql+psycopg://.../cs_predq [--customers 1500]

Prints Markdown rows for benchmarks/RESULTS.md. The database at --url is
rebuilt.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from harness import fresh_database


def cs(url: str, *args: str) -> tuple[dict | None, float]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "cs_cli", *args],
        env={**os.environ, "CS_DATABASE_URL": url},
        capture_output=True,
        text=True,
        check=True,
    )
    seconds = time.perf_counter() - started
    return (json.loads(done.stdout) if done.stdout.strip().startswith("{") else None), seconds


def _auc(r: dict | None) -> str:
    return f"{r['auc']:.3f} ({r['low']:.3f}-{r['high']:.3f})" if r and r.get("auc") is not None else "-"


def _mae(r: dict | None) -> str:
    return f"{r['mae']:.2f} ({r['low']:.2f}-{r['high']:.2f})" if r else "-"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", required=True)
    parser.add_argument("--customers", type=int, default=1500)
    args = parser.parse_args()
    fresh_database(args.url)
    _, built = cs(args.url, "demo", "--customers", str(args.customers))
    grew, grew_s = cs(args.url, "expansion", "evaluate", "--format", "json")
    said, said_s = cs(args.url, "nps", "evaluate", "--format", "json")
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d")
    print(f"{stamp}, {platform.processor() or platform.machine()}, {os.cpu_count()} cores")
    print(f"demo of {args.customers:,} customers built in {built:.0f} s")
    print()
    print(
        "| expansion | observations (expanded); test | model AUC (95%) | health score AUC"
        " | events+tenure AUC | seconds |"
    )
    print("|---|---|---|---|---|---|")
    g = grew
    print(
        f"| {g['algorithm']} | {g['observations']:,} ({g['churned']:,}); "
        f"{g['test_observations']:,} ({g['test_churned']:,}) | {_auc(g['model'])} "
        f"| {_auc(g['health'])} | {_auc(g['baseline'])} | {grew_s:.0f} |"
    )
    print()
    print(
        "| nps | observations (test) | model MAE (95%) | model, those with a last | same as last"
        " | book mean | seconds |"
    )
    print("|---|---|---|---|---|---|---|")
    n = said
    print(
        f"| {n['algorithm']} | {n['observations']:,} ({n['test_observations']:,}) | {_mae(n['model'])}"
        f" | {_mae(n['model_on_last'])} | {_mae(n['same_as_last'])} | {_mae(n['book_mean'])}"
        f" | {said_s:.0f} |"
    )


if __name__ == "__main__":
    main()
