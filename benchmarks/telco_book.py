"""A telecom CRM export as such exports come (the shape of the well-known
telco churn data set: 7,043 customers, contract, tenure in months, monthly
and total charges, payment method, internet service and a Yes/No churn
flag), with its mess: blank TotalCharges for new customers, stray spaces,
mixed case. Churn follows the relations such books show (month-to-month,
short tenure, fibre, electronic check and high charges churn more).

    python benchmarks/telco_book.py OUT_DIR [--customers 7043] [--as-of 2026-11-30]

Writes OUT_DIR/telco.csv, OUT_DIR/telco_map.yaml (for `cs import customers
--map`) and OUT_DIR/telco_scorecard.yaml (a scorecard fit to what such a book
has: attributes and tenure). No usage, no touchpoints: ARR and attributes
only, the book that used to come out "critical at 50" for everyone.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import math
import random
from pathlib import Path

MAP = """\
columns:
  customerID: external_id
  Churn: status
  contract_start: contract_start
  arr: arr
  TotalCharges: null
values:
  status: {"Yes": churned, "No": active, "yes": churned, "no": active}
"""

SCORECARD = """\
name: telco
description: What a telecom CRM export knows, scored (attributes and tenure).
weights: {relationship: 40, financial: 60}
min_tenure_days: 30
min_coverage: 0.25
components:
  relationship:
    measures:
      contract:
        kind: attribute
        attribute: Contract
        weight: 3
        values: {Month-to-month: 20, One year: 70, Two year: 100}
      tenure:
        kind: tenure
        weight: 2
        bands: [{to: 180, score: 20}, {from: 180, to: 730, score: 60}, {from: 730, score: 100}]
  financial:
    measures:
      payment:
        kind: attribute
        attribute: PaymentMethod
        weight: 1
        values: {Electronic check: 30, Mailed check: 70, Bank transfer (automatic): 90,
                 Credit card (automatic): 90}
        other: 60
      charges:
        kind: attribute
        attribute: MonthlyCharges
        weight: 1
        bands: [{to: 40, score: 90}, {from: 40, to: 80, score: 60}, {from: 80, score: 40}]
      internet:
        kind: attribute
        attribute: InternetService
        weight: 1
        values: {"No": 90, DSL: 70, Fiber optic: 40}
      contract_value:
        weight: 1
        bands: [{to: 500, score: 50}, {from: 500, score: 70}]
"""


def write(out: Path, customers: int, as_of: dt.date, seed: int = 11) -> None:
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    with (out / "telco.csv").open("w", newline="") as handle:
        w = csv.writer(handle)
        w.writerow(
            [
                "customerID",
                "gender",
                "SeniorCitizen",
                "tenure",
                "Contract",
                "PaperlessBilling",
                "PaymentMethod",
                "InternetService",
                "MonthlyCharges",
                "TotalCharges",
                "arr",
                "contract_start",
                "Churn",
            ]
        )
        for i in range(customers):
            contract = rng.choices(["Month-to-month", "One year", "Two year"], [55, 21, 24])[0]
            tenure = (
                max(0, int(rng.expovariate(1 / 30))) if contract == "Month-to-month" else rng.randint(0, 72)
            )
            internet = rng.choices(["Fiber optic", "DSL", "No"], [44, 34, 22])[0]
            payment = rng.choices(
                ["Electronic check", "Mailed check", "Bank transfer (automatic)", "Credit card (automatic)"],
                [34, 23, 22, 21],
            )[0]
            charges = {"Fiber optic": 85, "DSL": 55, "No": 22}[internet] + rng.gauss(0, 12)
            charges = round(max(18.25, charges), 2)
            logit = (
                -2.2
                + (1.6 if contract == "Month-to-month" else -0.6 if contract == "Two year" else 0)
                - 0.035 * tenure
                + (0.8 if internet == "Fiber optic" else -0.5 if internet == "No" else 0)
                + (0.6 if payment == "Electronic check" else 0)
                + 0.008 * (charges - 65)
            )
            churn = rng.random() < 1 / (1 + math.exp(-logit))
            total = "" if tenure == 0 else f"{charges * tenure:.2f}"
            start = as_of - dt.timedelta(days=int(tenure * 30.4) + rng.randint(0, 29))
            # Mess: spaces around values, a churn flag in lower case now and then.
            flag = "Yes" if churn else "No"
            if rng.random() < 0.02:
                flag = flag.lower()
            w.writerow(
                [
                    f"{rng.randint(1000, 9999)}-{''.join(rng.choices('ABCDEFGHIJKLMNOPQRSTUVWXYZ', k=5))}{i}",
                    rng.choice(["Male", "Female"]),
                    int(rng.random() < 0.16),
                    tenure,
                    contract,
                    rng.choice(["Yes", "No"]),
                    payment,
                    internet,
                    f" {charges}" if rng.random() < 0.01 else charges,
                    total,
                    f"{charges * 12:.2f}",
                    start.isoformat(),
                    flag,
                ]
            )
    (out / "telco_map.yaml").write_text(MAP)
    (out / "telco_scorecard.yaml").write_text(SCORECARD)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("out", type=Path)
    parser.add_argument("--customers", type=int, default=7043)
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=dt.date(2026, 11, 30))
    args = parser.parse_args()
    write(args.out, args.customers, args.as_of)
