"""Usage events: what each contact does in the product, day by day, and the
integrations and API scripts that run on their own."""

from __future__ import annotations

import datetime as dt

from cs_cli.services.demo.timeline import Timeline
from cs_cli.services.demo.words import FEATURE_P, FEATURE_Q, FEATURES

# The features machines use too, by position in FEATURES.
_INTEGRATION, _API = FEATURES.index("integration_sync"), FEATURES.index("api_call")


class Usage(Timeline):
    """A part of Activity: usage events, one row per contact, feature and day, with
    the day's count as quantity."""

    def usage(self) -> None:
        rng, c, book = self.rng, self.c, self.book
        rand = rng.random
        emit = self.writer.event
        cid = self.customer_id
        # How much each person likes each feature, drawn here so the plan stays small for big books.
        contacts = [
            (p, self.contact_id[p.external_id], [rng.uniform(0.4, 1.4) for _ in FEATURES]) for p in c.contacts
        ]
        hour = dt.timedelta(hours=c.utc_hour)
        minute = dt.timedelta(minutes=1)
        night = dt.timedelta(hours=2)
        machines = max(1, c.seats // 20)  # integrations and scripts grow with the account
        for day in range(self.first, self.end):
            intensity, breadth = self.curve(day)
            chance = intensity * book.day_factor[day]
            if chance <= 0:
                continue
            full = int(breadth)
            partial = breadth - full
            top = min(full + 1, len(FEATURES))
            base = book.midnights[day] + hour
            for person, contact_id, affinity in contacts:
                if person.left_day is not None and day >= person.left_day:
                    continue
                if rand() >= person.activity * chance:
                    continue
                moment = base + int(rand() * 600) * minute
                for k in range(top):
                    if k:
                        p = FEATURE_P[k] * affinity[k]
                        if k == full:
                            p *= partial
                        if rand() >= p:
                            continue
                    quantity = float(1 + int(rand() * FEATURE_Q[k] * (0.4 + intensity)))
                    emit((cid, contact_id, FEATURES[k], moment, quantity))
            # Integrations and API scripts run without a person, every day, once the account uses them.
            for k, per_day in ((_INTEGRATION, 24), (_API, 200)):
                if breadth > k and rand() < intensity + 0.3:
                    quantity = float(machines * (per_day // 2 + int(rand() * per_day * intensity)))
                    emit((cid, None, FEATURES[k], book.midnights[day] + night, quantity))
