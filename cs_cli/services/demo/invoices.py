"""Invoices: monthly or annual bills over the window, paid on time or late, and left
unpaid by accounts in trouble."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from cs_cli.db.models import Invoice
from cs_cli.services.demo.book import AT_RISK, CHURN_BOUND, CHURNED, HEALTHY
from cs_cli.services.demo.dates import add_months, midnight
from cs_cli.services.demo.timeline import Timeline


class Invoices(Timeline):
    """A part of Activity: the invoices."""

    def invoices(self) -> None:
        rng, c, book = self.rng, self.c, self.book
        until = c.churn_date or book.as_of
        step = 1 if c.billing == "monthly" else 12
        issued: list[dt.date] = []
        k = 0
        while True:
            day = add_months(c.contract_start, k * step)
            if day >= until:
                break
            if day >= book.start or (step == 12 and add_months(day, 12) > book.start):
                issued.append(day)
            k += 1
        late = "late_payment" in c.signals
        late_chance = (
            0.55 if late else {HEALTHY: 0.08, AT_RISK: 0.18, CHURN_BOUND: 0.45, CHURNED: 0.4}[c.fate]
        )
        max_delay = 60 if late or c.fate != HEALTHY else 15
        # Accounts in trouble leave their latest bills unpaid; older debt would be with collections.
        recent = book.as_of - dt.timedelta(days=90)
        past_due = [d for d in issued if recent <= d + dt.timedelta(days=c.net_days) < book.as_of]
        unpaid = set()
        if past_due and (late or c.fate == CHURN_BOUND) and rng.random() < 0.8:
            unpaid.update(past_due[-rng.randint(1, 2) :])
        if issued and c.fate == CHURNED and rng.random() < 0.5:
            unpaid.add(issued[-1])  # written off at churn
        amount = (c.arr / (12 if step == 1 else 1)).quantize(Decimal("0.01"))
        for n, day in enumerate(issued, start=1):
            due = day + dt.timedelta(days=c.net_days)
            if rng.random() < late_chance:
                paid: dt.date | None = due + dt.timedelta(days=rng.randint(1, max_delay))
            else:
                paid = max(day, due - dt.timedelta(days=rng.randint(0, min(25, c.net_days - 1))))
            if day in unpaid or (paid is not None and paid >= book.as_of):
                paid = None
            self.writer.add(
                Invoice.__table__,
                {
                    "external_id": f"INV-{c.index + 1:05d}-{n:03d}",
                    "customer_id": self.customer_id,
                    "amount": amount,
                    "currency": "USD",
                    "issued_on": day,
                    "due_on": due,
                    "paid_on": paid,
                    "created_at": midnight(day),
                    "updated_at": midnight(paid) if paid else None,
                },
            )
