"""CS tasks: the CSM's finished work over the window, and what is on their plate now
(routine work, work for each risk signal, renewal prep)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from cs_cli.db.models import CSTask
from cs_cli.domain import Priority, TaskStatus, TaskType
from cs_cli.services.demo.book import AT_RISK, CHURN_BOUND, CHURNED, HEALTHY
from cs_cli.services.demo.timeline import Timeline
from cs_cli.services.demo.words import (
    BLOCKED_REASONS,
    OUTCOME_NOTES,
    RISK_TASKS,
    ROUTINE_TASKS,
    TICKETS,
    TIME_SPENT,
)


class Tasks(Timeline):
    """A part of Activity: the tasks."""

    def tasks(self) -> None:
        if not self.lively():
            return
        rng, c, book = self.rng, self.c, self.book
        monthly = {"Starter": 0.6, "Growth": 1.5, "Enterprise": 2.5}[c.plan] * (
            1.3 if c.fate != HEALTHY else 1
        )
        day = float(self.first)
        while True:
            day += rng.expovariate(monthly / 30)
            if day >= self.end - 1:
                break
            self._done_task(int(day), rng.choice(ROUTINE_TASKS))
        if c.fate == CHURNED:
            champion = next((p for p in c.contacts if p.is_champion), c.contacts[0])
            self._done_task(
                self.end - 1,
                (
                    TaskType.CALL,
                    f"Exit interview with {champion.first}",
                    "Learn why they left; log it for product.",
                ),
            )
            return
        # Open work: routine for everyone, risk work for accounts in trouble, renewal prep when close.
        todo = [rng.choice(ROUTINE_TASKS) for _ in range(rng.choices((0, 1, 2), (30, 45, 25))[0])]
        todo += [RISK_TASKS[s] for s in sorted(c.signals)]
        prep = None
        if (c.renewal_date - book.as_of).days <= 90:
            prep = (
                TaskType.CALL,
                f"Renewal prep: {{company}} renews {c.renewal_date}",
                "Confirm stakeholders, pricing and timeline for the renewal.",
            )
            todo.append(prep)
        for template in todo:
            # Renewal prep is due before the renewal it prepares.
            self._open_task(template, before=c.renewal_date if template is prep else None)

    def _fill(self, day: int) -> dict[str, str]:
        """The names a task's title and description may use."""
        c = self.c
        contact = self.contact_for(day)
        by_role = {p.role: p for p in reversed(c.contacts)}
        champions = sorted((p for p in c.contacts if p.is_champion), key=lambda p: p.left_at is None)
        subjects = (
            [s for s, _ in self.escalations] or self.open_ticket_subjects or [t[0] for t in TICKETS[:4]]
        )
        return {
            "contact": contact.first,
            "company": c.name,
            "feature": self.words(contact, day)["feature"],
            "ticket": self.rng.choice(subjects),
            "champion": (champions[0] if champions else contact).name,
            "billing": (by_role.get("billing") or contact).name,
            "executive": (by_role.get("executive") or contact).name,
        }

    def _task_row(self, template: tuple[TaskType, str, str], day: int) -> dict[str, Any]:
        kind, title, description = template
        escalation = kind == TaskType.ESCALATION
        assignee = (
            (self.manager_id or self.csm_id) if escalation and self.c.plan == "Enterprise" else self.csm_id
        )
        names = self._fill(day)
        return {
            "customer_id": self.customer_id,
            "title": title.format(**names)[:200],
            "description": description.format(**names),
            "task_type": kind,
            "assigned_to_user_id": assignee,
            "assigned_to_role": "manager" if assignee == self.manager_id else "csm",
            "playbook_id": None,
            "playbook_step_id": None,
            "playbook_run_id": None,
            "journey_enrollment_id": None,
        }

    def _done_task(self, day: int, template: tuple[TaskType, str, str]) -> None:
        rng, c = self.rng, self.c
        row = self._task_row(template, day)
        completed = min(self.at(day), self.end_at - dt.timedelta(minutes=1))
        created = completed - dt.timedelta(days=rng.randint(2, 21), hours=rng.randint(0, 8))
        if rng.random() < 0.12:
            status, outcome, notes, spent = TaskStatus.CANCELLED, None, "No longer needed.", None
        else:
            weights = {HEALTHY: (70, 10, 10, 10), AT_RISK: (45, 20, 15, 20)}.get(c.fate, (30, 30, 10, 30))
            outcome = rng.choices(list(OUTCOME_NOTES), weights)[0]
            notes = rng.choice(OUTCOME_NOTES[outcome]).format(contact=self.contact_for(day).first)
            status = TaskStatus.COMPLETED
            spent = rng.randint(*TIME_SPENT[template[0]])
        row.update(
            priority=rng.choices(list(Priority), (25, 50, 20, 5))[0],
            status=status,
            blocked_reason=None,
            due_date=(completed + dt.timedelta(days=rng.randint(-3, 3))).date(),
            completed_at=completed,
            outcome=outcome,
            outcome_notes=notes,
            time_spent_minutes=spent,
            created_at=created,
            updated_at=completed,
        )
        self.writer.add(CSTask.__table__, row)

    def _open_task(self, template: tuple[TaskType, str, str], *, before: dt.date | None = None) -> None:
        rng, c, book = self.rng, self.c, self.book
        row = self._task_row(template, book.days - 1)
        due_in = rng.choices(
            (rng.randint(-14, -1), 0, rng.randint(1, 6), rng.randint(7, 30)), (25, 15, 30, 30)
        )[0]
        due = book.as_of + dt.timedelta(days=due_in)
        if before is not None and due >= before:
            due_in = (before - book.as_of).days - 1
            due = book.as_of + dt.timedelta(days=due_in)
        created_day = book.days + min(0, due_in) - rng.randint(1, 14)
        created = self.at(min(max(created_day, self.first), book.days - 1))
        statuses = (TaskStatus.PENDING, TaskStatus.IN_PROGRESS, TaskStatus.BLOCKED)
        status = rng.choices(statuses, (55, 35, 10))[0]
        risky = template in RISK_TASKS.values() or c.fate == CHURN_BOUND
        priority_weights = (5, 25, 45, 25) if risky else (25, 50, 20, 5)
        row.update(
            priority=rng.choices(list(Priority), priority_weights)[0],
            status=status,
            blocked_reason=rng.choice(BLOCKED_REASONS) if status == TaskStatus.BLOCKED else None,
            due_date=due,
            completed_at=None,
            outcome=None,
            outcome_notes=None,
            time_spent_minutes=rng.randint(5, 30) if status == TaskStatus.IN_PROGRESS else None,
            created_at=created,
            updated_at=None,
        )
        self.writer.add(CSTask.__table__, row)
