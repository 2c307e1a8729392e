"""The task lifecycle's keys, shared by the task board and the task detail:
complete, start, block, unblock, reschedule, snooze, assign, cancel and
edit. Each opens its form (task_modals.py) where it needs one, then runs the
change on a worker thread through the same services as `cs tasks`, and
posts what happened (Changed) or why not (Failed) back to the screen.

A screen mixes TaskActions in and says which tasks the keys act on
(`task_targets`), the status each shows (`target_statuses`) and which card
the edit form starts from (`edit_card`). A change none of the targets can
make is said at once, before any form opens (the services refuse it
anyway); completing a blocked task first asks to unblock it."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from textual.message import Message

from cs_cli.domain import PAST_TENSE, BoardCard, TaskChangeResult, TaskStatus
from cs_cli.tui.data import Database
from cs_cli.tui.screens.on_board import OnBoard
from cs_cli.tui.screens.task_modals import (
    AssignForm,
    AssignModal,
    BlockForm,
    BlockModal,
    CancelForm,
    CancelModal,
    CompleteForm,
    CompleteModal,
    ConfirmModal,
    EditForm,
    EditModal,
    RescheduleForm,
    RescheduleModal,
    SnoozeForm,
    SnoozeModal,
)
from cs_cli.tui.widgets.tasks.errors import one_line


class Changed(Message):
    """A change went through: what to tell the user."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class Failed(Message):
    """A read or change failed: its one-line message. A refused change
    asks for a reload (`reload`): the task may have changed underneath."""

    def __init__(self, text: str, reload: bool = False) -> None:
        super().__init__()
        self.text = text
        self.reload = reload


class TaskActions(OnBoard):
    """The lifecycle actions for a Screen: `action_complete`, `action_start`,
    ... as the screen's bindings name them. The screen handles Changed and
    Failed (reload, notify)."""

    # Provided by the Screen this is mixed into.
    notify: Any
    post_message: Any
    run_worker: Any

    def task_targets(self) -> tuple[list[int], str] | None:
        """The tasks a key acts on and how a form names them; None: no task
        here (the screen has said so)."""
        raise NotImplementedError

    def target_statuses(self) -> dict[int, TaskStatus]:
        """The status each task the keys may act on shows (its card), by id;
        a task missing here is left to the service to judge."""
        return {}

    def edit_card(self) -> BoardCard | None:
        """The card the edit form starts from; None: blank fields (a selection)."""
        return None

    @property
    def db(self) -> Database:
        return self.app.db

    def fail(self, exc: BaseException, *, reload: bool = False) -> None:
        """Post a worker's failure as one line (a bug is raised, not hidden)."""
        text = one_line(exc)
        if text is None:
            raise exc
        self.post_message(Failed(text, reload=reload))

    def _targets(self, verb: str) -> tuple[list[int], str] | None:
        """The targets of a change, or None when there are none or none of
        them can make it as their cards show them (said at once)."""
        found = self.task_targets()
        if found is None:
            return None
        why = refusal(verb, found[0], self.target_statuses())
        if why is not None:
            self.notify(why, severity="warning", markup=False)
            return None
        return found

    def _ask(self, modal_of: Callable[[int, str], Any], verb: str, kwargs_of: Callable[[Any], dict]) -> None:
        """Open a form for the targets; on submit run the change."""
        found = self._targets(verb)
        if found is None:
            return
        ids, what = found

        def done(form: Any) -> None:
            if form is not None:
                self.change(verb, ids, **kwargs_of(form))

        self.app.push_screen(modal_of(len(ids), what), done)

    def action_start(self) -> None:
        found = self._targets("start")
        if found:
            self.change("start", found[0])

    def action_unblock(self) -> None:
        found = self._targets("unblock")
        if found:
            self.change("unblock", found[0])

    def action_complete(self) -> None:
        def kwargs(form: CompleteForm) -> dict:
            return {"outcome": form.outcome, "notes": form.notes, "minutes": form.minutes}

        found = self.task_targets()
        if found is not None:
            ids, what = found
            statuses = self.target_statuses()
            blocked = [i for i in ids if statuses.get(i) == TaskStatus.BLOCKED]
            if blocked and refusal("complete", ids, statuses) is None:
                # Some can be completed as they are: the blocked ones may join them.
                self._unblock_and_complete(ids, what, kwargs, blocked=len(blocked))
                return
            if ids and len(blocked) == len(ids):
                self._unblock_and_complete(ids, what, kwargs)
                return
        self._ask(CompleteModal, "complete", kwargs)

    def _unblock_and_complete(
        self, ids: list[int], what: str, kwargs_of: Callable[[Any], dict], *, blocked: int = 0
    ) -> None:
        """Blocked tasks cannot be completed: ask to unblock them first, then
        open the complete form; both changes are written together. On a
        selection where only `blocked` of the tasks are, no completes the
        others alone (the blocked ones are skipped and counted), escape
        changes nothing."""

        def form(unblock: bool) -> None:
            def completed(done: CompleteForm | None) -> None:
                if done is not None:
                    self.change("complete", ids, unblock_first=unblock, **kwargs_of(done))

            self.app.push_screen(CompleteModal(len(ids), what), completed)

        def answered(yes: bool | None) -> None:
            if yes or (blocked and yes is False):
                form(unblock=bool(yes))

        if blocked:
            are = "are" if blocked != 1 else "is"
            question = f"{blocked} of the {what} {are} blocked. Unblock and complete all {len(ids)}?"
            others = len(ids) - blocked
            confirm = ConfirmModal(question, "Unblock and complete", no=f"Only the other {others}")
        else:
            it, are = ("them", "are") if len(ids) != 1 else ("it", "is")
            question = f"{what[:1].upper()}{what[1:]} {are} blocked. Unblock and complete {it}?"
            confirm = ConfirmModal(question, "Unblock and complete")
        self.app.push_screen(confirm, answered)

    def action_block(self) -> None:
        def kwargs(form: BlockForm) -> dict:
            return {"reason": form.reason}

        self._ask(lambda n, what: BlockModal(what), "block", kwargs)

    def action_cancel_task(self) -> None:
        def kwargs(form: CancelForm) -> dict:
            return {"reason": form.reason}

        self._ask(CancelModal, "cancel", kwargs)

    def action_reschedule(self) -> None:
        def kwargs(form: RescheduleForm) -> dict:
            return {"due": form.due}

        today = self.db.today()
        self._ask(lambda n, what: RescheduleModal(what, today), "reschedule", kwargs)

    def action_snooze(self) -> None:
        def kwargs(form: SnoozeForm) -> dict:
            return {"until": form.until}

        today = self.db.today()
        self._ask(lambda n, what: SnoozeModal(what, today), "snooze", kwargs)

    def action_edit(self) -> None:
        def kwargs(form: EditForm) -> dict:
            return {
                "title": form.title,
                "task_type": form.task_type,
                "priority": form.priority,
                "due": form.due,
            }

        today = self.db.today()
        card = self.edit_card()
        self._ask(lambda n, what: EditModal(what, today, card), "update", kwargs)

    def action_assign(self) -> None:
        from cs_cli.services.tasks.board import assignable_users

        found = self._targets("assign")
        if found is None:
            return
        ids, what = found

        def fetch() -> None:
            try:
                users = self.db.call(assignable_users, ids)
            except Exception as exc:
                self.fail(exc)
                return
            self.app.call_from_thread(self._open_assign, ids, what, users)

        self.run_worker(fetch, thread=True, group="task-fetch")

    def _open_assign(self, ids: list[int], what: str, users: list) -> None:
        def done(form: AssignForm | None) -> None:
            if form is not None:
                self.change("assign", ids, to=form.to)

        self.app.push_screen(AssignModal(what, users), done)

    def change(self, verb: str, ids: list[int], **kwargs: Any) -> None:
        """Run one change of the task lifecycle on these tasks (in a worker)."""
        self.run_worker(partial(self._change, verb, tuple(ids), kwargs), thread=True, group="task-change")

    def _change(self, verb: str, ids: tuple[int, ...], kwargs: dict) -> None:
        from cs_cli.services.tasks import lifecycle
        from cs_cli.services.tasks.bulk import Target
        from cs_cli.services.tasks.selection import TaskFilter

        db = self.db
        if len(ids) == 1:
            # One task: a change it cannot make is an error worth reading.
            target = Target(ids=ids)
        else:
            # A selection: the tasks that can make the change do; the rest are counted.
            target = Target(filter=TaskFilter(ids=ids, statuses=tuple(TaskStatus), include_snoozed=True))
        unblock_first = kwargs.pop("unblock_first", False)

        def run(session: Any, actor: Any) -> TaskChangeResult:
            when = {"today": db.today(), "now": db.now()}
            if unblock_first:
                # One transaction: unblocked only if completed too.
                lifecycle.unblock(session, actor, target, **when)
            return getattr(lifecycle, verb)(session, actor, target, **when, **kwargs)

        try:
            result = db.call(run)
        except Exception as exc:
            # Refused: the task may be stale (changed elsewhere); show it as it is now.
            self.fail(exc, reload=True)
            return
        text = summary(verb, result, single=len(ids) == 1)
        if unblock_first:
            text = "unblocked and " + text
        if verb == "snooze" and result.changed:
            until = kwargs["until"]
            text += (
                " (snooze cleared)" if until is None else f" until {until:%Y-%m-%d} (off the board till then)"
            )
        self.post_message(Changed(text))


def refusal(verb: str, ids: list[int], statuses: dict[int, TaskStatus]) -> str | None:
    """Why none of these tasks can make the change, as their cards show
    them; None: at least one can (or a status is not known here)."""
    from cs_cli.services.tasks.lifecycle import TRANSITIONS

    if verb not in TRANSITIONS or not ids or any(i not in statuses for i in ids):
        return None
    allowed = TRANSITIONS[verb][0]
    if any(statuses[i] in allowed for i in ids):
        return None
    past = PAST_TENSE.get(verb, verb)
    if len(ids) == 1:
        return f"task {ids[0]} is {status_word(statuses[ids[0]])}: it cannot be {past}"
    counts: dict[str, int] = {}
    for i in ids:
        word = status_word(statuses[i])
        counts[word] = counts.get(word, 0) + 1
    kinds = ", ".join(f"{n} {word}" for word, n in counts.items())
    return f"none of the {len(ids)} tasks can be {past} ({kinds})"


def status_word(status: TaskStatus | str) -> str:
    """A task status in words: 'in progress', not 'in_progress'."""
    return str(getattr(status, "value", status)).replace("_", " ")


def summary(verb: str, result: TaskChangeResult, *, single: bool) -> str:
    """One line saying what a change did, as the CLI says it."""
    changed = result.changed
    if single and len(changed) == 1:
        what = f"task {changed[0]}"
    else:
        what = f"{len(changed)} task{'s' if len(changed) != 1 else ''}"
    text = f"{PAST_TENSE.get(verb, verb)} {what}"
    if result.touchpoints:
        text += f"; logged {result.touchpoints} touchpoint{'s' if result.touchpoints != 1 else ''}"
    if result.skipped:
        kinds = ", ".join(f"{n} {status_word(status)}" for status, n in result.skipped.items())
        past = PAST_TENSE.get(verb, verb)
        text += f"; skipped {sum(result.skipped.values())} that cannot be {past} ({kinds})"
    return text
