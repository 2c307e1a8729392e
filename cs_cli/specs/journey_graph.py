"""The shape of a journey: every branch names a step of the file, every step
can be reached from the first, and no loop goes round without waiting (a
loop with no wait would run forever within one tick)."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import Any

from cs_cli.errors import FileError
from cs_cli.specs.journey import ConditionStep, JourneySpec, StartJourneyStep, TaskStep

# Words an error at a key path of the file: the file's reader passes its own
# (JourneyFile.error), so the graph needs no knowledge of files or YAML nodes.
ErrorAt = Callable[[tuple[Any, ...], str], FileError]


def check(spec: JourneySpec, error: ErrorAt) -> None:
    """Raise FileError at the first problem in the journey's graph."""
    keys = [s.key for s in spec.steps]
    index = {k: i for i, k in enumerate(keys)}
    for i, step in enumerate(spec.steps):
        for _, target, where in step.branches():
            if target not in index:
                raise error(
                    ("steps", i, *where), f"no step '{target}' in this journey{_suggest(target, keys)}"
                )
        if isinstance(step, StartJourneyStep) and step.journey == spec.key:
            raise error(("steps", i, "journey"), "a journey cannot start itself")
    _check_facts(spec, error, index)
    _check_loops(spec, error, index)
    _check_reachable(spec, error)


def edges(spec: JourneySpec) -> dict[str, list[str]]:
    """Each step's key and the keys it can go on to."""
    return {s.key: [target for _, target, _ in s.branches()] for s in spec.steps}


def _suggest(name: str, keys: list[str]) -> str:
    close = difflib.get_close_matches(name, keys, n=1)
    return f" (did you mean '{close[0]}'?)" if close else f" (steps: {', '.join(keys)})"


def _check_facts(spec: JourneySpec, error: ErrorAt, index: dict[str, int]) -> None:
    places: list[tuple[tuple[Any, ...], Any]] = []
    for i, step in enumerate(spec.steps):
        if isinstance(step, ConditionStep) and step.facts:
            places += [(("steps", i, "facts", j), f) for j, f in enumerate(step.facts)]
    for name in ("goal", "exit_when"):
        criteria = getattr(spec, name)
        if criteria is not None and criteria.facts:
            places += [((name, "facts", j), f) for j, f in enumerate(criteria.facts)]
    tasks = [s.key for s in spec.steps if isinstance(s, TaskStep)]
    for where, fact in places:
        if fact.task is not None and fact.task not in tasks:
            what = "not a task step" if fact.task in index else "no step"
            raise error(
                (*where, "task"),
                f"'{fact.task}' is {what} of this journey (task steps: {', '.join(tasks) or 'none'})",
            )


def _check_loops(spec: JourneySpec, error: ErrorAt, index: dict[str, int]) -> None:
    """A cycle through steps none of which waits is an error naming the loop."""
    steps = spec.steps
    moving = {s.key for s in steps if not s.waits()}
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    path: list[str] = []

    def visit(key: str) -> None:
        state[key] = 1
        path.append(key)
        step = steps[index[key]]
        for _, target, where in step.branches():
            if target not in moving:
                continue
            if state.get(target) == 1:
                loop = [*path[path.index(target) :], target]
                raise error(
                    ("steps", index[key], *where),
                    f"a loop with no wait: {' -> '.join(loop)} (put a wait step in it, "
                    "or a task that waits for completion)",
                )
            if target not in state:
                visit(target)
        path.pop()
        state[key] = 2

    for step in steps:
        if step.key in moving and step.key not in state:
            visit(step.key)


def _check_reachable(spec: JourneySpec, error: ErrorAt) -> None:
    graph = edges(spec)
    first = spec.steps[0].key
    seen = {first}
    todo = [first]
    while todo:
        for target in graph[todo.pop()]:
            if target not in seen:
                seen.add(target)
                todo.append(target)
    for i, step in enumerate(spec.steps):
        if step.key not in seen:
            raise error(
                ("steps", i, "key"),
                f"step '{step.key}' is never reached: no path leads to it from the first step, '{first}'",
            )
