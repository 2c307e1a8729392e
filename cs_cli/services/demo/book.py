"""The plan of the whole book, made in memory from one random stream before any row
is written: teams of CSMs, and customers with a fate (healthy, at risk, heading to
churn, churned), its risk signals, a contract, contacts and a CSM.

Only the plan is drawn here; each customer's history comes later from its own
stream (`activity_seed`), so the size of one account's history never shifts the next.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from cs_cli.domain import Role
from cs_cli.services.demo.dates import add_months, add_years, midnight
from cs_cli.services.demo.words import (
    BILLING_TITLES,
    CHAMPION_TITLES,
    DEMO_DOMAIN,
    EXEC_TITLES,
    FIRST,
    INDUSTRIES,
    LAST,
    PREFIXES,
    QUALIFIERS,
    REGIONS,
    STAFF_TIMEZONES,
    TEAM_SHARES,
    TEAMS,
    USER_TITLES,
)

# What becomes of each account; its activity tells that story.
HEALTHY, AT_RISK, CHURN_BOUND, CHURNED = "healthy", "at_risk", "churn_bound", "churned"
# The share of churned accounts whose churn comes without warning signs.
QUIET_SHARE = 0.3
QUIET_SALT = 0x9E3779B9
# The share of healthy accounts that buy more (ARR and seats up) during the
# window, after their usage grew; their own stream decides, as for quiet churn.
EXPANSION_SHARE = 0.3
EXPANSION_SALT = 0x85EBCA6B
# Usage grows over this many days before an expansion (the seats run out).
EXPANSION_LEAD_DAYS = 60
# Why an account is at risk; each one shows in its activity and gets a task.
_SIGNALS = ("usage_decline", "champion_left", "support_trouble", "late_payment", "low_nps")


@dataclass(slots=True)
class Person:
    name: str
    login: str
    email: str
    role: Role
    team: str
    manager_login: str | None
    timezone: str


@dataclass(slots=True)
class ContactPlan:
    external_id: str
    first: str
    name: str
    email: str
    title: str
    role: str
    is_champion: bool = False
    is_exec_sponsor: bool = False
    left_day: int | None = None  # day index in the window; None when still there
    left_at: dt.datetime | None = None
    activity: float = 0.5  # chance of using the product on a working day at full intensity


@dataclass(slots=True)
class CustomerPlan:
    index: int
    external_id: str
    name: str
    industry: str
    region: str
    timezone: str
    utc_hour: int
    arr: Decimal
    plan: str
    seats: int
    contract_type: str
    billing: str
    net_days: int
    contract_start: dt.date
    renewal_date: dt.date
    fate: str
    signals: frozenset[str]
    churn_date: dt.date | None
    churned_at: dt.datetime | None
    domain: str
    activity_seed: int
    attributes: dict[str, Any] = field(default_factory=dict)
    csm_login: str = ""
    manager_login: str | None = None
    contacts: list[ContactPlan] = field(default_factory=list)
    # An expansion in the window: the day (index) and the ARR and seats after.
    expansion_day: int | None = None
    expansion_at: dt.datetime | None = None
    expanded_arr: Decimal | None = None
    expanded_seats: int | None = None


class Book:
    """The whole book planned in memory from one random stream, before any row is written."""

    def __init__(
        self,
        *,
        seed: int,
        n: int,
        months: int,
        as_of: dt.date,
        taken_logins: set[str],
        taken_emails: set[str],
    ) -> None:
        self.rng = random.Random(seed)
        self.seed = seed
        self.n = n
        self.as_of = as_of
        self.start = add_months(as_of, -months)
        self.days = (as_of - self.start).days
        self.dates = [self.start + dt.timedelta(days=d) for d in range(self.days)]
        self.midnights = [midnight(d) for d in self.dates]
        self.day_factor = [self._day_factor(d) for d in self.dates]
        self.now = midnight(as_of)  # nothing happens on or after the start of as_of
        self.taken_logins = set(taken_logins)
        self.taken_emails = set(taken_emails)
        self.people: list[Person] = []
        self.customers: list[CustomerPlan] = []

    @staticmethod
    def _day_factor(day: dt.date) -> float:
        factor = 1.0 if day.weekday() < 5 else 0.12
        if (day.month == 12 and day.day >= 24) or (day.month == 1 and day.day == 1):
            factor *= 0.35
        return factor

    def day_index(self, day: dt.date) -> int:
        return (day - self.start).days

    def plan(self) -> None:
        self._plan_people()
        self._plan_customers()
        self._assign_csms()

    # people

    def _plan_people(self) -> None:
        n_teams = 2 if self.n < 100 else 3
        per_team = 3 if self.n < 100 else 4
        for team in TEAMS[n_teams]:
            manager = self._person(Role.MANAGER, team, None)
            for _ in range(per_team):
                self._person(Role.CSM, team, manager.login)

    def _person(self, role: Role, team: str, manager: str | None) -> Person:
        rng = self.rng
        while True:
            first, last = rng.choice(FIRST), rng.choice(LAST)
            login = f"{first}.{last}".lower()
            email = f"{login}@{DEMO_DOMAIN}"
            if login not in self.taken_logins and email not in self.taken_emails:
                break
        self.taken_logins.add(login)
        self.taken_emails.add(email)
        person = Person(
            name=f"{first} {last}",
            login=login,
            email=email,
            role=role,
            team=team,
            manager_login=manager,
            timezone=rng.choice(STAFF_TIMEZONES),
        )
        self.people.append(person)
        return person

    # customers

    def _fates(self) -> list[str]:
        n = self.n
        churned, bound, at_risk = round(n * 0.06), round(n * 0.04), round(n * 0.20)
        if n >= 5:  # even a tiny demo shows every story
            churned, bound, at_risk = max(1, churned), max(1, bound), max(1, at_risk)
        fates = [CHURNED] * churned + [CHURN_BOUND] * bound + [AT_RISK] * at_risk
        fates += [HEALTHY] * (n - len(fates))
        self.rng.shuffle(fates)
        return fates

    def _plan_customers(self) -> None:
        rng = self.rng
        width = max(5, len(str(self.n)))
        used_names: set[str] = set()
        industries = list(INDUSTRIES)
        industry_weights = [INDUSTRIES[i][0] for i in industries]
        regions = list(REGIONS)
        region_weights = [REGIONS[r][0] for r in regions]
        for i, fate in enumerate(self._fates()):
            industry = rng.choices(industries, industry_weights)[0]
            name = self._company_name(industry, used_names)
            region = rng.choices(regions, region_weights)[0]
            _, utc_hour, zones = REGIONS[region]

            arr = _draw_arr(rng)
            fuzzy = float(arr) * rng.lognormvariate(0, 0.25)
            plan = "Starter" if fuzzy < 35_000 else "Growth" if fuzzy < 180_000 else "Enterprise"
            seat_price = {"Starter": 600, "Growth": 900, "Enterprise": 1200}[plan]
            seats = max(5, round(float(arr) / seat_price * rng.uniform(0.8, 1.25)))

            signals = self._signals(fate)
            contract_type, contract_start, renewal, churn_date = self._contract(fate, plan)
            billing_monthly = {"Starter": 0.7, "Growth": 0.3, "Enterprise": 0.05}[plan]
            billing = "monthly" if rng.random() < billing_monthly else "annual"
            net_days = 30 if plan != "Enterprise" else rng.choice((30, 45, 60))
            churned_at = None
            if churn_date is not None:
                churned_at = midnight(churn_date) + dt.timedelta(hours=15, minutes=rng.randrange(240))

            plan_row = CustomerPlan(
                index=i,
                external_id=f"C-{i + 1:0{width}d}",
                name=name,
                industry=industry,
                region=region,
                timezone=rng.choice(zones),
                utc_hour=utc_hour,
                arr=arr,
                plan=plan,
                seats=seats,
                contract_type=contract_type,
                billing=billing,
                net_days=net_days,
                contract_start=contract_start,
                renewal_date=renewal,
                fate=fate,
                signals=signals,
                churn_date=churn_date,
                churned_at=churned_at,
                domain=re.sub(r"[^a-z0-9]+", "", name.lower()) + ".example",
                activity_seed=rng.getrandbits(64),
            )
            plan_row.attributes = self._attributes(plan_row)
            plan_row.contacts = self._contacts(plan_row)
            if not any(p.is_champion and p.left_at for p in plan_row.contacts):
                plan_row.signals -= {"champion_left"}  # too new an account to have lost anyone
            # Some accounts leave with no warning the data shows (an
            # acquisition, a budget cut): churn no model can foresee. Their
            # own stream decides, so the rest of the book is drawn the same.
            if fate == CHURNED and random.Random(plan_row.activity_seed ^ QUIET_SALT).random() < QUIET_SHARE:
                plan_row.signals = frozenset()
            if fate == HEALTHY:
                self._plan_expansion(plan_row)
            self.customers.append(plan_row)

    def _plan_expansion(self, c: CustomerPlan) -> None:
        """Some healthy accounts expand once their usage has grown for a while
        (timeline.py grows it): ARR and seats up 15% to 60%."""
        rng = random.Random(c.activity_seed ^ EXPANSION_SALT)
        if rng.random() >= EXPANSION_SHARE:
            return
        lo = max(self.day_index(c.contract_start) + 120, EXPANSION_LEAD_DAYS)
        if lo >= self.days - 1:
            return
        day = rng.randrange(lo, self.days - 1)
        rise = rng.uniform(0.15, 0.6)
        c.expansion_day = day
        c.expansion_at = self.midnights[day] + dt.timedelta(hours=c.utc_hour + 2, minutes=rng.randrange(300))
        c.expanded_arr = (c.arr * Decimal(str(round(1 + rise, 3)))).quantize(Decimal("1"))
        c.expanded_seats = max(c.seats + 1, round(c.seats * (1 + rise)))

    def _company_name(self, industry: str, used: set[str]) -> str:
        rng = self.rng
        suffixes = INDUSTRIES[industry][1]
        for _ in range(3):
            name = f"{rng.choice(PREFIXES)} {rng.choice(suffixes)}"
            if name not in used:
                break
        else:
            name = f"{name} {rng.choice(QUALIFIERS)}"
            base, k = name, 2
            while name in used:
                name, k = f"{base} {k}", k + 1
        used.add(name)
        return name

    def _signals(self, fate: str) -> frozenset[str]:
        rng = self.rng
        if fate == HEALTHY:
            return frozenset()
        if fate == AT_RISK:
            return frozenset(rng.sample(_SIGNALS, rng.choice((1, 1, 2, 2, 3))))
        others = [s for s in _SIGNALS if s != "usage_decline"]
        return frozenset(["usage_decline", *rng.sample(others, rng.choice((1, 2, 3)))])

    def _contract(self, fate: str, plan: str) -> tuple[str, dt.date, dt.date, dt.date | None]:
        """(contract type, start, renewal date, churn date): annual contracts renew within a year."""
        rng, as_of = self.rng, self.as_of
        if fate == CHURNED:
            # Accounts leave at a renewal they do not sign; the window shows their decline.
            lo = min(30, self.days // 3)
            hi = max(lo, self.days - 3)
            churn_date = self.start + dt.timedelta(days=rng.randint(lo, hi))
            return "annual", add_years(churn_date, -rng.randint(1, 3)), churn_date, churn_date
        if fate == CHURN_BOUND:
            renewal = as_of + dt.timedelta(days=rng.randint(10, 100))
            return "annual", add_years(renewal, -rng.randint(1, 3)), renewal, None
        tenure = int(rng.triangular(20, 5 * 365, 200))
        start = as_of - dt.timedelta(days=tenure)
        if plan != "Starter" and tenure > 400 and rng.random() < 0.15:
            term = rng.choice((2, 3))
            renewal = add_years(start, term)
            while renewal <= as_of:
                renewal = add_years(renewal, term)
            return "multi_year", start, renewal, None
        renewal = add_years(start, 1)
        while renewal <= as_of:
            renewal = add_years(renewal, 1)
        return "annual", start, renewal, None

    def _attributes(self, c: CustomerPlan) -> dict[str, Any]:
        rng = self.rng
        until = c.churn_date or self.as_of
        tenure_days = (until - c.contract_start).days
        if c.fate == CHURNED:
            stage = "churned"
        elif tenure_days < 90:
            stage = "onboarding"
        elif (c.renewal_date - self.as_of).days <= 90:
            stage = "renewal"
        elif tenure_days < 365:
            stage = "adoption"
        else:
            stage = "mature"
        channel_weights = {"Starter": (3, 2, 5), "Growth": (6, 3, 1), "Enterprise": (8, 2, 0)}[c.plan]
        employees = round(c.seats * rng.uniform(1.5, 8), -1 if c.seats < 100 else -2)
        return {
            "contract_type": c.contract_type,
            "billing_frequency": c.billing,
            "lifecycle_stage": stage,
            "employee_count": int(max(10, employees)),
            "sales_channel": rng.choices(("direct", "partner", "self_serve"), channel_weights)[0],
        }

    def _contacts(self, c: CustomerPlan) -> list[ContactPlan]:
        rng = self.rng
        count = round(3 + 0.9 * math.log2(float(c.arr) / 15_000) + rng.uniform(-1, 1))
        count = min(8, max(3, count))
        names: set[str] = set()
        contacts: list[ContactPlan] = []

        def person(title: str, role: str, activity: tuple[float, float]) -> ContactPlan:
            while True:
                first, last = rng.choice(FIRST), rng.choice(LAST)
                if f"{first} {last}" not in names:
                    break
            names.add(f"{first} {last}")
            contact = ContactPlan(
                external_id=f"{c.external_id}-P{len(contacts) + 1}",
                first=first,
                name=f"{first} {last}",
                email=f"{first}.{last}@{c.domain}".lower(),
                title=title,
                role=role,
                activity=rng.uniform(*activity),
            )
            contacts.append(contact)
            return contact

        champion = person(rng.choice(CHAMPION_TITLES), "admin", (0.75, 0.95))
        champion.is_champion = True
        if c.plan != "Starter" or rng.random() < 0.4:
            person(rng.choice(EXEC_TITLES), "executive", (0.05, 0.2)).is_exec_sponsor = True
        if count >= 4:
            person(rng.choice(BILLING_TITLES), "billing", (0.01, 0.05))
        while len(contacts) < count:
            title = rng.choice(USER_TITLES)
            person(title, "admin" if title == "Systems Administrator" else "end user", (0.3, 0.85))

        # Champions leave: rarely from healthy accounts, often from those heading out.
        leave_chance = {HEALTHY: 0.03, AT_RISK: 0.1, CHURN_BOUND: 0.6, CHURNED: 0.5}[c.fate]
        if "champion_left" in c.signals:
            leave_chance = 1.0
        first_day = max(0, self.day_index(c.contract_start) + 45)
        end_day = self.day_index(c.churn_date) if c.churn_date else self.days
        if rng.random() < leave_chance and end_day - 20 > first_day:
            self._leave(champion, rng.randint(max(first_day, end_day - 150), end_day - 20))
            users = [p for p in contacts if p.role in ("end user", "admin") and p is not champion]
            if users and (c.fate == HEALTHY or rng.random() < 0.25):
                successor = rng.choice(users)
                successor.is_champion = True
                successor.activity = max(successor.activity, 0.8)
        for contact in contacts:
            turnover = contact.left_day is None and not contact.is_champion and rng.random() < 0.04
            if turnover and end_day - 10 > first_day:
                self._leave(contact, rng.randint(first_day, end_day - 10))
        return contacts

    def _leave(self, contact: ContactPlan, day: int) -> None:
        contact.left_day = day
        contact.left_at = self.midnights[day] + dt.timedelta(hours=17)

    def _assign_csms(self) -> None:
        """Teams own ARR bands (Enterprise the largest accounts); books within a team are balanced."""
        rng = self.rng
        teams = TEAMS[2 if self.n < 100 else 3]
        shares = TEAM_SHARES[len(teams)]
        ranked = sorted(self.customers, key=lambda c: (-c.arr, c.index))
        start = 0
        for k, team in enumerate(teams):
            end = len(ranked) if k == len(teams) - 1 else start + round(len(ranked) * shares[k])
            csms = sorted(
                (p for p in self.people if p.team == team and p.role == Role.CSM), key=lambda p: p.login
            )
            order: list[Person] = []
            for customer in ranked[start:end]:
                if not order:
                    order = list(csms)
                    rng.shuffle(order)
                csm = order.pop()
                customer.csm_login = csm.login
                customer.manager_login = csm.manager_login
            start = end


def _draw_arr(rng: random.Random) -> Decimal:
    """Long-tailed ARR, 10k..2M, median about 55k: a few accounts carry much of the book."""
    while True:
        value = rng.lognormvariate(math.log(50_000), 1.2)
        if 10_000 <= value <= 2_000_000:
            break
    step = 100 if value < 100_000 else 1_000
    return Decimal(int(round(value / step) * step))
