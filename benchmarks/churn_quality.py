"""Benchmark: how well `cs churn` predicts, on two books that are not the demo,
each against the best plain baseline we can write.

1. A telecom CRM export (benchmarks/telco_book.py: the shape of the public
   telco churn data set, 7,043 customers, a Yes/No churn flag, no dated
   history). cs learns from its facts and attributes, cross-validated
   (stratified 5 folds). Baseline: a well-tuned plain scikit-learn logistic
   regression on the raw CSV columns (one-hot categoricals, standardized
   numbers, C chosen by inner cross-validation), on the same folds.
2. An event-stream SaaS book (benchmarks/history_book.py: heavy-tailed
   usage over a year, churn that fades in or comes quietly). cs validates
   out of time; beside it, on the same test days, the health score's own AUC
   and a logistic regression on 28-day event counts plus tenure (both in the
   report).

    python benchmarks/churn_quality.py --url postgresql+psycopg://.../cs_churnq \
        [--customers 3000] [--events 1000000]

Prints Markdown rows for benchmarks/RESULTS.md. The books are generated; the
database at --url is rebuilt.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from history_book import AS_OF, build

from cs_cli.db.engine import make_engine, transaction
from cs_cli.db.models import User
from cs_cli.enums import Role
from cs_cli.services.access import resolve_actor
from cs_cli.services.churn.train import plan_days, train
from cs_cli.specs.scorecard import load_scorecard


def _interval(r) -> str:
    return f"{r.auc:.3f} ({r.low:.3f}-{r.high:.3f})" if r and r.auc is not None else "-"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", required=True)
    parser.add_argument("--customers", type=int, default=3000)
    parser.add_argument("--events", type=int, default=1_000_000)
    args = parser.parse_args()
    rows = telco_rows(args.url) + saas_rows(args.url, args.customers, args.events)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d")
    print(f"{stamp}, {platform.processor() or platform.machine()}, {os.cpu_count()} cores")
    print(
        "| book | method | cs churn model AUC (95%) | baseline AUC | health score AUC"
        " | Brier (base rate's) | seconds |"
    )
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        print(row)


def telco_rows(url: str) -> list[str]:
    """cs on the telco export, and the plain logistic regression on the same folds."""
    import telco_book
    from harness import fresh_database
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegressionCV
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        telco_book.write(out, customers=7043, as_of=dt.date(2026, 11, 30))
        engine = fresh_database(url)
        with transaction(engine) as session:
            session.add(User(login="bench", name="Bench", email="bench@example.com", role=Role.ADMIN))
        _cs(
            url,
            "import",
            "customers",
            str(out / "telco.csv"),
            "--map",
            str(out / "telco_map.yaml"),
            "--as-of",
            "2026-11-30",
        )
        started = time.perf_counter()
        with transaction(engine) as session:
            actor = resolve_actor(session, "bench")
            trained = train(
                session,
                actor,
                None,
                days=[dt.date(2026, 11, 30)],
                history=False,
                horizon_days=90,
                every_days=30,
            )
            session.rollback()
        seconds = time.perf_counter() - started
        report = trained.report

        # The baseline: the raw CSV, one-hot and standardized, C tuned inside
        # each training fold; the same stratified folds as cs (seed 0, 5).
        with open(out / "telco.csv", newline="", encoding="utf-8") as f:
            raw = list(csv.DictReader(f))
        label = np.array([r["Churn"].strip().lower() == "yes" for r in raw], dtype=int)
        numeric = ["tenure", "MonthlyCharges", "TotalCharges"]
        skip = {"customerID", "Churn", "contract_start", "arr", *numeric}
        categorical = [k for k in raw[0] if k not in skip]

        def number(v: str) -> float:
            try:
                return float(v)
            except ValueError:
                return np.nan

        x_num = np.array([[number(r[k]) for k in numeric] for r in raw])
        x_num = np.where(np.isnan(x_num), np.nanmedian(x_num, axis=0), x_num)
        x_cat = np.array([[r[k].strip().lower() for k in categorical] for r in raw], dtype=object)
        x = np.hstack([x_num, x_cat])
        prep = ColumnTransformer(
            [
                ("n", StandardScaler(), list(range(len(numeric)))),
                ("c", OneHotEncoder(handle_unknown="ignore"), list(range(len(numeric), x.shape[1]))),
            ]
        )
        predicted = np.zeros(len(label))
        k = max(2, min(5, int(label.sum()), int((1 - label).sum())))
        for train_rows, test_rows in StratifiedKFold(k, shuffle=True, random_state=0).split(x, label):
            model = make_pipeline(prep, LogisticRegressionCV(Cs=10, cv=5, scoring="roc_auc", max_iter=3000))
            model.fit(x[train_rows], label[train_rows])
            predicted[test_rows] = model.predict_proba(x[test_rows])[:, 1]
        baseline = roc_auc_score(label, predicted)
        brier_baseline = float(np.mean((predicted - label) ** 2))
    return [
        f"| telco export, 7,043 customers | {report.method}, {report.algorithm} | {_interval(report.model)} "
        f"| {baseline:.3f} (tuned logistic regression on the raw columns; Brier {brier_baseline:.3f}) | - "
        f"| {report.brier:.3f} ({report.brier_base_rate:.3f}) | {seconds:.1f} |"
    ]


def saas_rows(url: str, customers: int, events: int) -> list[str]:
    build(url, customers, events)
    engine = make_engine(url)
    started = time.perf_counter()
    with transaction(engine) as session:
        actor = resolve_actor(session, "bench")
        days, history = plan_days(
            session, since=None, until=None, every_days=30, horizon_days=90, today=AS_OF
        )
        trained = train(
            session, actor, load_scorecard(None), days=days, history=history, horizon_days=90, every_days=30
        )
        session.rollback()
    seconds = time.perf_counter() - started
    r = trained.report
    return [
        f"| SaaS event book, {customers:,} customers, {events:,} events | {r.method} on "
        f"{', '.join(r.test_days)}, {r.algorithm} | {_interval(r.model)} | {_interval(r.baseline)} "
        f"(logistic regression, 28-day events + tenure) | {_interval(r.health)} "
        f"| {r.brier:.3f} ({r.brier_base_rate:.3f}) | {seconds:.1f} |"
    ]


def _cs(url: str, *args: str) -> None:
    import subprocess

    env = {**os.environ, "CS_DATABASE_URL": url, "CS_USER": "bench"}
    subprocess.run([sys.executable, "-m", "cs_cli", *args], env=env, check=True, capture_output=True)


if __name__ == "__main__":
    main()
