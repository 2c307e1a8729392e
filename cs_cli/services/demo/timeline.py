"""What every part of one customer's history shares: its own random stream, the days
it was live in the window, the curves of how much and how broadly its people use the
product, and who is there on a given day. The parts (usage, tickets, invoices, nps,
touchpoints, tasks) build on it; activity.py puts them together.
"""

from __future__ import annotations

import datetime as dt
import math
import random

from cs_cli.services.demo.book import (
    AT_RISK,
    CHURN_BOUND,
    EXPANSION_LEAD_DAYS,
    HEALTHY,
    Book,
    ContactPlan,
    CustomerPlan,
)
from cs_cli.services.demo.words import CONCERNS, FEATURE_WORDS, FEATURES
from cs_cli.services.demo.writing import Writer


class Timeline:
    """One customer's window and random stream, with the helpers every part uses."""

    def __init__(
        self,
        book: Book,
        c: CustomerPlan,
        writer: Writer,
        user_ids: dict[str, int],
        customer_id: int,
        contact_ids: dict[str, int],
    ) -> None:
        self.book, self.c, self.writer = book, c, writer
        self.rng = random.Random(c.activity_seed)
        self.customer_id = customer_id
        self.csm_id = user_ids[c.csm_login]
        self.manager_id = user_ids.get(c.manager_login or "")
        self.contact_id = {p.external_id: contact_ids[p.external_id] for p in c.contacts}
        # The days the account was live in the window: [first, end).
        self.first = max(0, book.day_index(c.contract_start))
        self.end = book.day_index(c.churn_date) if c.churn_date else book.days
        self.end_at = c.churned_at or book.now
        self.new = book.day_index(c.contract_start) > 0
        self._shape_curves()
        # Filled by the tickets, read later by the touchpoints and tasks (see Activity.run).
        self.escalations: list[tuple[str, dt.datetime]] = []
        self.open_ticket_subjects: list[str] = []
        self.tickets_written = 0

    # curves: intensity (0..1, how much the people use it) and breadth (features in use, 1..12)

    def _shape_curves(self) -> None:
        rng, c = self.rng, self.c
        self.decline_start = self.end
        if c.fate == HEALTHY:
            self.i0 = rng.uniform(0.4, 0.7)
            self.i1 = min(1.0, self.i0 + rng.uniform(0.15, 0.4))
            self.b0 = 2.0 if self.new else float(rng.randint(3, 7))
            self.b1 = min(12.0, self.b0 + rng.randint(2, 5))
        elif c.fate == AT_RISK:
            self.i0 = rng.uniform(0.35, 0.6)
            declining = "usage_decline" in c.signals
            self.i1 = self.i0 * (1 - (rng.uniform(0.35, 0.6) if declining else rng.uniform(-0.05, 0.1)))
            self.b0 = 2.0 if self.new else float(rng.randint(3, 6))
            self.b1 = max(2.0, self.b0 - (rng.randint(1, 2) if declining else 0))
        else:
            self.i0 = self.i1 = rng.uniform(0.35, 0.55)
            self.b0 = self.b1 = 2.0 if self.new else float(rng.randint(3, 5))
            # The slide starts one to four months before the end (churn, or today for churn-bound).
            slide = rng.randint(30, 90) if self.c.fate == CHURN_BOUND else rng.randint(30, 120)
            if "usage_decline" in c.signals:  # not a quiet churn (book.QUIET_SHARE)
                self.decline_start = max(self.first, self.end - slide)

    def curve(self, day: int) -> tuple[float, float]:
        span = max(1, self.end - self.first)
        frac = (day - self.first) / span
        intensity = self.i0 + (self.i1 - self.i0) * frac
        breadth = self.b0 + (self.b1 - self.b0) * frac
        if day >= self.decline_start:
            x = (day - self.decline_start) / max(1, self.end - self.decline_start)
            intensity = self.i0 * math.exp(-2.6 * x)
            breadth = max(1.0, self.b0 - (self.b0 - 1.5) * x)
        if self.c.expansion_day is not None:
            # Before an expansion, usage grows (more people, more of the
            # product) and stays up once the seats are bought.
            grown = min(
                1.0, max(0.0, (day - self.c.expansion_day + EXPANSION_LEAD_DAYS) / EXPANSION_LEAD_DAYS)
            )
            intensity = min(1.8, intensity * (1 + 1.2 * grown))
            breadth = min(12.0, breadth + 4 * grown)
        age = day - self.book.day_index(self.c.contract_start)
        if age < 90:  # onboarding: a ramp, and only the basics at first
            intensity *= 0.3 + 0.7 * age / 90
            breadth = min(breadth, 2 + age / 12)
        return intensity, breadth

    def decline(self, day: int) -> float:
        """0 before the decline, rising to 1 at the end (churn-bound and churned accounts)."""
        if day < self.decline_start:
            return 0.0
        return min(1.0, (day - self.decline_start) / max(1, self.end - self.decline_start))

    # helpers

    def at(self, day: int) -> dt.datetime:
        """A moment in the customer's working hours on a day of the window."""
        return self.book.midnights[day] + dt.timedelta(hours=self.c.utc_hour, minutes=self.rng.randrange(600))

    def present(self, day: int, roles: tuple[str, ...] | None = None) -> list[ContactPlan]:
        people = [p for p in self.c.contacts if p.left_day is None or p.left_day > day]
        if roles:
            chosen = [p for p in people if p.role in roles]
            people = chosen or people
        return people

    def contact_for(self, day: int, roles: tuple[str, ...] | None = ("admin", "end user")) -> ContactPlan:
        people = self.present(day, roles)
        champions = [p for p in people if p.is_champion]
        if champions and self.rng.random() < 0.5:
            return self.rng.choice(champions)
        return self.rng.choice(people or self.c.contacts)

    def random_day(self, lo: int, hi: int) -> int:
        """A day in [lo, hi), clipped to the live window."""
        lo, hi = max(lo, self.first), min(hi, self.end)
        return self.rng.randrange(lo, hi) if hi > lo else max(self.first, min(lo, self.end - 1))

    def lively(self) -> bool:
        return self.end > self.first

    def words(self, contact: ContactPlan | None, day: int) -> dict[str, str]:
        _, breadth = self.curve(day)
        feature = FEATURE_WORDS[self.rng.randrange(1, max(2, min(len(FEATURES), int(breadth) + 1)))]
        return {
            "contact": contact.first if contact else "the team",
            "feature": feature,
            "concern": self.rng.choice(CONCERNS),
            "company": self.c.name,
        }
