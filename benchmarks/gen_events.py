"""Write a book of business as import files: customers, contacts and N usage
events, for the import benchmark (deterministic for a seed)."""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import random
from pathlib import Path

FEATURES = [
    "login",
    "dashboard_view",
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
]


def write_book(out: Path, customers: int, events: int, seed: int = 7) -> dict[str, Path]:
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    paths = {name: out / f"{name}.csv" for name in ("customers", "contacts", "events")}
    with paths["customers"].open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["external_id", "name", "arr", "plan", "seats", "renewal_date"])
        for i in range(customers):
            writer.writerow(
                [
                    f"C{i:07d}",
                    f"Customer {i}",
                    f"{rng.lognormvariate(11, 1):.2f}",
                    "Growth",
                    rng.randint(5, 500),
                    (dt.date(2027, 1, 1) + dt.timedelta(days=i % 365)).isoformat(),
                ]
            )
    contacts_per = 5
    with paths["contacts"].open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["external_id", "customer_id", "name", "email", "is_champion"])
        for i in range(customers):
            for j in range(contacts_per):
                writer.writerow(
                    [
                        f"P{i:07d}-{j}",
                        f"C{i:07d}",
                        f"Person {i}-{j}",
                        f"p{i}.{j}@example.com",
                        "true" if j == 0 else "false",
                    ]
                )
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    with paths["events"].open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["customer_id", "contact_id", "event_name", "occurred_at", "quantity"])
        rand = rng.random
        for _ in range(events):
            c = int(rand() * customers)
            at = start + dt.timedelta(seconds=int(rand() * 300 * 86400))
            writer.writerow(
                [
                    f"C{c:07d}",
                    f"P{c:07d}-{int(rand() * contacts_per)}",
                    FEATURES[int(rand() * len(FEATURES))],
                    at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    1 + int(rand() * 5),
                ]
            )
    return paths


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path)
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=2_000_000)
    args = parser.parse_args()
    for name, path in write_book(args.out, args.customers, args.events).items():
        print(name, path, path.stat().st_size)
