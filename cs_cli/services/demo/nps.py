"""NPS responses: a survey wave every quarter; some contacts answer, less happily as
an account declines."""

from __future__ import annotations

from cs_cli.db.models import NpsResponse
from cs_cli.services.demo.book import AT_RISK, CHURN_BOUND, CHURNED, HEALTHY
from cs_cli.services.demo.timeline import Timeline
from cs_cli.services.demo.words import NPS_COMMENTS


class Nps(Timeline):
    """A part of Activity: NPS, a survey wave every quarter; some contacts answer."""

    def nps(self) -> None:
        rng, c, book = self.rng, self.c, self.book
        base = {
            HEALTHY: 8.6,
            AT_RISK: 4.8 if "low_nps" in c.signals else 7.0,
            CHURN_BOUND: 5.5,
            CHURNED: 5.5 if c.signals else 7.0,  # a quiet churn says nothing in advance
        }
        wave = book.days - 10
        n = 0
        while wave >= 0:
            if self.first + 30 <= wave < self.end:
                for person in self.present(wave):
                    if person.role == "billing" or rng.random() >= (0.2 if person.is_exec_sponsor else 0.35):
                        continue
                    day = wave + rng.randint(0, 9)
                    if day >= self.end or (person.left_day is not None and day >= person.left_day):
                        continue
                    mean = base[c.fate] - 3.5 * self.decline(day)
                    score = max(0, min(10, round(rng.gauss(mean, 1.6))))
                    kind = "promoter" if score >= 9 else "passive" if score >= 7 else "detractor"
                    n += 1
                    moment = self.at(day)
                    self.writer.add(
                        NpsResponse.__table__,
                        {
                            "external_id": f"NPS-{c.index + 1:05d}-{n:03d}",
                            "customer_id": self.customer_id,
                            "contact_id": self.contact_id[person.external_id],
                            "score": score,
                            "comment": rng.choice(NPS_COMMENTS[kind]) if rng.random() < 0.65 else None,
                            "responded_at": moment,
                            "created_at": moment,
                        },
                    )
            wave -= 91
