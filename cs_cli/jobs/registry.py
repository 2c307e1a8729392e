"""Every scheduled job: its name, its schedule, and the function that does it.

A job's function takes a JobContext (engine, actor, the moment it acts at,
settings), calls the same services the matching command calls, and returns
what it did as counts. Services are imported when a job runs, never here, so
`cs --help` stays fast; a job whose service this version does not have fails
with a clear error instead of breaking every other job.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cs_cli.errors import BadInput, ConfigError, CsError
from cs_cli.jobs.schedule import Schedule, parse_time

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine
    from sqlalchemy.orm import Session

    from cs_cli.domain import Actor
    from cs_cli.settings import Settings

Counts = dict[str, Any]


@dataclass(frozen=True)
class JobContext:
    engine: Engine
    actor: Actor
    now: dt.datetime  # the moment the job acts at (aware UTC; --as-of in replays)
    settings: Settings

    @property
    def today(self) -> dt.date:
        return self.now.astimezone(dt.UTC).date()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        from cs_cli.db.engine import transaction

        with transaction(self.engine) as session:
            yield session


@dataclass(frozen=True)
class Job:
    name: str
    schedule: Schedule
    run: Callable[[JobContext], Counts]
    help: str


class JobUnavailable(CsError):
    """A job whose service this version of cs does not have. Exit code 1."""


def service(module: str, function: str, *, job: str) -> Callable[..., Any]:
    """`module.function`, or JobUnavailable naming what is missing."""
    try:
        found = getattr(importlib.import_module(module), function, None)
    except ModuleNotFoundError as exc:
        if exc.name is None or not module.startswith(exc.name):
            raise  # the service is there but something it needs is not: a real error
        found = None
    if found is None:
        raise JobUnavailable(f"{job} is not available in this version of cs (it needs {module}.{function})")
    return found


def counts_of(result: Any) -> Counts:
    """A service's result as counts for the run ledger: the numbers (and short
    texts) of a dataclass or dict; a number alone as 'count'."""
    if dataclasses.is_dataclass(result) and not isinstance(result, type):
        result = {f.name: getattr(result, f.name) for f in dataclasses.fields(result)}
    if isinstance(result, int | float):
        return {"count": result}
    if not isinstance(result, dict):
        return {}
    out: Counts = {}
    for key, value in result.items():
        if isinstance(value, bool | int | float):
            out[key] = value
        elif isinstance(value, dict) and all(isinstance(v, int) for v in value.values()):
            out[key] = sum(value.values())
        elif isinstance(value, list | tuple):
            out[key] = len(value)
        elif isinstance(value, str) and len(value) <= 200:
            out[key] = value
    return out


# --- the jobs -----------------------------------------------------------------------------------------


def health_refresh(ctx: JobContext) -> Counts:
    """`cs recalc`: every customer's health score as of today."""
    from pathlib import Path

    from cs_cli.services.health.recalc import recalc_day, scorecard_groups, status_counts, target_ids
    from cs_cli.specs.scorecard import load_scorecards

    path = ctx.settings.scorecard
    plan = load_scorecards(Path(path) if path else None)
    results = []
    with ctx.transaction() as session:
        ids = target_ids(session, ctx.actor, None)
        for group in scorecard_groups(session, ctx.actor, plan, ids, as_of=ctx.today):
            results.append(
                recalc_day(
                    session,
                    ctx.actor,
                    group.scorecard,
                    ids,
                    as_of=ctx.today,
                    now=ctx.now,
                    only=group.only,
                    count=group.count,
                )
            )
    counts: Counts = {"scored": sum(r.scored for r in results), "dropped": sum(r.dropped for r in results)}
    counts.update(status_counts(results))
    return counts


def churn_predict(ctx: JobContext) -> Counts:
    """`cs churn predict`, then `cs expansion predict` and `cs nps predict`:
    each target with an active model; with no churn model trained yet, says
    so and succeeds (nothing to predict with)."""
    from cs_cli.services.churn.predict import predict
    from cs_cli.services.churn.store import active_id
    from cs_cli.services.churn.targets import CHURN, TARGETS

    counts: Counts = {}
    with ctx.transaction() as session:
        for name in TARGETS:
            if active_id(session, name) is None:
                if name == CHURN.name:
                    counts["note"] = "no active churn model (cs churn train): nothing to predict"
                continue
            got = counts_of(predict(session, ctx.actor, as_of=ctx.today, now=ctx.now, target=name))
            got.pop("target", None)
            # Churn's counts as they always were; the others' under their name.
            counts.update(got if name == CHURN.name else {f"{name}_{k}": v for k, v in got.items()})
    return counts


def segment_refresh(ctx: JobContext) -> Counts:
    """`cs segments refresh`: every active segment."""
    from cs_cli.services.segments.refresh import refresh

    with ctx.transaction() as session:
        results = refresh(session, ctx.actor, None, as_of=ctx.today, now=ctx.now)
    skipped = [r for r in results if r.error]
    if skipped:
        # The others are committed; failing the run shows in `cs jobs status`.
        names = ", ".join(f"'{r.segment}' ({r.error})" for r in skipped)
        raise CsError(f"{len(skipped)} of {len(results)} segments skipped: {names}")
    return {
        "segments": len(results),
        "entered": sum(r.entered for r in results),
        "exited": sum(r.exited for r in results),
    }


def playbook_evaluate(ctx: JobContext) -> Counts:
    """`cs playbooks evaluate`: the playbooks' automatic triggers over the book."""
    from cs_cli.services.playbooks.evaluate import evaluate

    with ctx.transaction() as session:
        result = evaluate(session, ctx.actor, as_of=ctx.today, now=ctx.now)
    return {
        "runs_started": sum(result.runs_started.values()),
        "tasks_created": result.tasks_created,
        "runs_judged": result.runs_judged,
    }


def _automation_rules(ctx: JobContext, job: str) -> Any:
    """The automation rules file (the `automation_rules` setting, else the shipped one)."""
    configured = service("cs_cli.services.automation.config", "configured_rules", job=job)
    return configured(getattr(ctx.settings, "automation_rules", ""))


def automation(ctx: JobContext) -> Counts:
    """`cs automation run`: the renewal scan, then the event triggers over the new domain events."""
    run = service("cs_cli.services.automation.run", "run_job", job="automation")
    rules = _automation_rules(ctx, "automation")
    return counts_of(run(ctx.engine, ctx.actor, rules, as_of=ctx.today, now=ctx.now))


def alert_check(ctx: JobContext) -> Counts:
    """`cs alerts check`: new risk alerts, their notices and the daily digests."""
    check = service("cs_cli.services.alert_checks", "check_alerts", job="alert-check")
    rules = _automation_rules(ctx, "alert-check")
    with ctx.transaction() as session:
        return counts_of(
            check(session, ctx.actor, as_of=ctx.today, now=ctx.now, thresholds=rules.spec.alerts)
        )


def journey_tick(ctx: JobContext) -> Counts:
    """`cs journeys tick`: enroll, wake and advance journey enrollments."""
    from pathlib import Path

    tick = service("cs_cli.services.journeys.engine", "tick", job="journey-tick")
    # Health checks in journeys score with the configured scorecard, as `cs recalc` does.
    scorecard = Path(ctx.settings.scorecard) if ctx.settings.scorecard else None
    # What the tick queues goes out with outbox-deliver, which `cs run due` runs after it.
    return counts_of(tick(ctx.engine, ctx.actor, now=ctx.now, scorecard=scorecard))


def task_reminders(ctx: JobContext) -> Counts:
    """`cs tasks remind`: each user's digest of due and overdue tasks, once a day."""
    remind = service("cs_cli.services.tasks.reminders", "remind", job="task-reminders")
    with ctx.transaction() as session:
        return counts_of(remind(session, ctx.actor, as_of=ctx.today, now=ctx.now))


def outbox_deliver(ctx: JobContext) -> Counts:
    """`cs outbox deliver`: send what is due."""
    from cs_cli.services.outbox.config import deliver_configured

    replay = ctx.now < dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    report = deliver_configured(
        ctx.engine, ctx.settings, now=ctx.now, clock=None if replay else (lambda: dt.datetime.now(dt.UTC))
    )
    return {"sent": report.sent, "failed": report.failed, "held": report.held, "dead": report.dead}


def retention(ctx: JobContext) -> Counts:
    """Delete what is past its retention: old delivered outbox messages,
    domain events every consumer has read, finished job runs, and customer
    data past the plan's periods (touchpoints, health history, closed tasks,
    ended journey enrollments)."""
    from cs_cli.services import retention as service_

    settings = ctx.settings
    cutoffs = service_.Cutoffs.from_settings(ctx.now, settings)
    counts: Counts = {}
    for kind in service_.KINDS:
        deleted = 0
        while True:  # a batch per transaction: no long lock, and progress survives a kill
            with ctx.transaction() as session:
                n = service_.purge(session, ctx.actor, kind, cutoffs, limit=settings.batch_size, now=ctx.now)
            deleted += n
            if n < settings.batch_size:
                break
        counts[kind] = deleted
    return counts


# In the order `cs run due` runs them: fresh scores before the segments and
# playbooks that read them, events acted on before journeys advance, and
# messages delivered after everything that writes them.
JOBS: tuple[Job, ...] = (
    Job("health-refresh", Schedule.daily(2, 0), health_refresh, "Recalculate every health score."),
    Job(
        "churn-predict",
        Schedule.daily(2, 30),
        churn_predict,
        "Update churn and expansion probabilities and predicted NPS.",
    ),
    Job("segment-refresh", Schedule.hourly(5), segment_refresh, "Re-evaluate dynamic segments."),
    Job("playbook-evaluate", Schedule.daily(3, 0), playbook_evaluate, "Fire the playbooks' triggers."),
    Job("automation", Schedule.every(5), automation, "Act on new domain events (event triggers)."),
    Job("alert-check", Schedule.hourly(15), alert_check, "Generate new risk alerts."),
    Job("journey-tick", Schedule.every(5), journey_tick, "Execute pending journey steps."),
    Job("task-reminders", Schedule.daily(7, 0), task_reminders, "Send task due reminders (a daily digest)."),
    Job("outbox-deliver", Schedule.every(1), outbox_deliver, "Deliver due email, webhooks, in-app messages."),
    Job("retention", Schedule.daily(4, 0), retention, "Delete rows past their retention period."),
)
BY_NAME = {job.name: job for job in JOBS}


def get(name: str) -> Job:
    """The job called `name`; BadInput (exit 2) naming the known ones otherwise."""
    job = BY_NAME.get(name)
    if job is None:
        import difflib

        close = difflib.get_close_matches(name, BY_NAME, n=1)
        hint = f"did you mean '{close[0]}'?" if close else "see `cs jobs status` for every job"
        raise BadInput(f"no job named '{name}' (jobs: due, {', '.join(BY_NAME)})", hint=hint)
    return job


def schedules(settings: Settings) -> dict[str, Schedule]:
    """Every job's schedule, with the times of `job_times` applied."""
    from cs_cli.settings import parse_job_times

    out = {job.name: job.schedule for job in JOBS}
    for name, at in parse_job_times(settings.job_times).items():
        if name not in out:
            raise ConfigError(f"job_times: no job named '{name}' (jobs: {', '.join(out)})")
        schedule = out[name]
        if schedule.kind == "minutes":
            raise ConfigError(
                f"job_times: {name} runs {schedule.describe()}; only daily and hourly jobs take a time"
            )
        try:
            out[name] = dataclasses.replace(schedule, at=parse_time(at, schedule.kind))
        except ValueError as exc:
            raise ConfigError(f"job_times: {name}: {exc}") from None
    return out
