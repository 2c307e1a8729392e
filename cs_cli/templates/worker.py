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

The worker is a fresh interpreter (`python -m cs_cli.templates.worker`),
not a fork: the parent may hold database connections and run threads (the
lease heartbeat), which a forked child may not touch; and not
multiprocessing's `spawn`, which imports the parent's main module again
and so fails in any program that calls cs without a `__main__` guard.
The two talk over a pair of pipes with multiprocessing's Connection:
requests as pickles (the parent is trusted, the worker reads them), replies
as JSON (the worker runs templates a user wrote; were one ever to break out
of the sandbox, the bytes it could send back are plain data, which the
parent reads without building any object but strings and numbers).
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
        import os
        import subprocess
        import sys
        from multiprocessing.connection import Connection

        to_child, from_parent = os.pipe()
        to_parent, from_child = os.pipe()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "cs_cli.templates.worker", str(to_child), str(from_child)],
            pass_fds=(to_child, from_child),
            stdin=subprocess.DEVNULL,
        )
        os.close(to_child)
        os.close(from_child)
        self.requests = Connection(from_parent, readable=False)
        self.replies = Connection(to_parent, writable=False)

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        self.process.kill()
        self.process.wait()
        self.requests.close()
        self.replies.close()


def render(text: str, context: dict[str, Any], *, name: str) -> str:
    """`text` rendered with `context` in the worker; a TemplateError when it
    fails, takes longer than RENDER_SECONDS or needs too much memory."""
    global _worker
    with _lock:
        if _worker is None or not _worker.alive():
            _worker = _Worker()
        worker = _worker
        try:
            worker.requests.send((text, name, context))
            if not worker.replies.poll(RENDER_SECONDS):
                _worker = None
                worker.stop()
                raise TemplateError(
                    name, None, f"not allowed: it takes longer than {RENDER_SECONDS:g} s to render"
                )
            reply = _reply(worker.replies.recv_bytes())
        except (EOFError, OSError):
            # The worker died under this render: the kernel refused it memory.
            _worker = None
            worker.stop()
            raise TemplateError(
                name, None, "not allowed: it needs more memory than a template may use"
            ) from None
    if reply[0] == "ok":
        return reply[1]
    _kind, line, reason = reply
    raise TemplateError(name, line, reason)


def _reply(data: bytes) -> list:
    """A reply of the worker: ["ok", text] or ["error", line, reason]."""
    import json

    reply = json.loads(data)
    if (
        isinstance(reply, list)
        and ((len(reply) == 2 and reply[0] == "ok") or (len(reply) == 3 and reply[0] == "error"))
        and all(isinstance(v, str | int | type(None)) for v in reply)
    ):
        return reply
    raise OSError("a reply the template worker does not send")


def _serve(requests: Any, replies: Any) -> None:
    import json
    import resource

    from cs_cli.templates.engine import render_here

    resource.setrlimit(resource.RLIMIT_AS, (WORKER_MEMORY_BYTES, WORKER_MEMORY_BYTES))
    while True:
        try:
            text, name, context = requests.recv()
        except (EOFError, OSError):
            return  # the parent is gone
        try:
            reply: tuple = ("ok", render_here(text, context, name=name))
        except TemplateError as exc:
            reply = ("error", exc.line, exc.reason)
        except MemoryError:
            reply = ("error", None, "not allowed: it needs more memory than a template may use")
        except Exception as exc:
            reply = ("error", None, f"{type(exc).__name__}: {exc}")
        replies.send_bytes(json.dumps(reply).encode("utf-8"))


if __name__ == "__main__":
    import sys
    from multiprocessing.connection import Connection

    _serve(Connection(int(sys.argv[1]), writable=False), Connection(int(sys.argv[2]), readable=False))
