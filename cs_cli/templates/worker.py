"""Templates render in a worker process, against a deadline.

Why a process: a runaway template must be stopped for good, and whatever
renders it (the journey tick, with its job lease kept alive by a heartbeat)
must go on. Python cannot stop a thread from outside, and checks in the
sandbox's hooks never run during one long step in C (a join, a replace, a
multiplication of huge numbers) or an empty loop over a long text; a process
can be killed. So the parent sends (template, context) to one long-lived
worker, waits at most RENDER_SECONDS for the text, and otherwise kills the
worker (the next render starts a new one) and fails that render alone. The
worker's memory is capped too: what the deadline does not catch in time
(a value doubled in a loop) fails there with a MemoryError, never in the
tick's process.

The worker is started with `spawn`, not `fork`: the parent may hold
database connections and run threads (the lease heartbeat), neither of
which a forked child may touch.
"""

from __future__ import annotations

import threading
from typing import Any

from cs_cli.errors import TemplateError

# How long one render may take, and the memory the worker may use.
RENDER_SECONDS = 2.0
WORKER_MEMORY_BYTES = 1024 * 1024 * 1024

_lock = threading.Lock()  # the board renders from worker threads: one render at a time
_worker: _Worker | None = None


class _Worker:
    def __init__(self) -> None:
        import multiprocessing

        context = multiprocessing.get_context("spawn")
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(child,), name="cs-templates", daemon=True)
        self.process.start()
        child.close()

    def stop(self) -> None:
        self.process.kill()
        self.process.join()
        self.conn.close()


def render(text: str, context: dict[str, Any], *, name: str) -> str:
    """`text` rendered with `context` in the worker; a TemplateError when it
    fails, takes longer than RENDER_SECONDS or needs too much memory."""
    global _worker
    with _lock:
        if _worker is None or not _worker.process.is_alive():
            _worker = _Worker()
        worker = _worker
        try:
            worker.conn.send((text, name, context))
            if not worker.conn.poll(RENDER_SECONDS):
                _worker = None
                worker.stop()
                raise TemplateError(
                    name, None, f"not allowed: it takes longer than {RENDER_SECONDS:g} s to render"
                )
            reply = worker.conn.recv()
        except (EOFError, OSError):
            # The worker died (the kernel refused it memory): start anew next time.
            _worker = None
            worker.stop()
            raise TemplateError(
                name, None, "not allowed: it needs more memory than a template may use"
            ) from None
    if reply[0] == "ok":
        return reply[1]
    _kind, line, reason = reply
    raise TemplateError(name, line, reason)


def _serve(conn: Any) -> None:
    import resource

    from cs_cli import templates

    resource.setrlimit(resource.RLIMIT_AS, (WORKER_MEMORY_BYTES, WORKER_MEMORY_BYTES))
    while True:
        try:
            text, name, context = conn.recv()
        except (EOFError, OSError):
            return  # the parent is gone
        try:
            reply: tuple = ("ok", templates.render_here(text, context, name=name))
        except TemplateError as exc:
            reply = ("error", exc.line, exc.reason)
        except Exception as exc:
            reply = ("error", None, f"{type(exc).__name__}: {exc}")
        conn.send(reply)
