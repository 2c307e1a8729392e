"""The runner's log: human lines for a person at a terminal, JSON lines for
machines (`--log-format json`). Under cron only warnings and errors are
written to stderr, so cron's mail (MAILTO) carries failures only; a log file
gets every line."""

from __future__ import annotations

import datetime as dt
import json
import sys
from typing import IO, Any

LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40}


class JobLog:
    def __init__(
        self,
        *,
        fmt: str = "human",
        level: str = "info",
        stream: IO[str] | None = None,
        file: IO[str] | None = None,
    ) -> None:
        self.fmt = fmt
        self.level = LEVELS[level]
        self.stream = stream if stream is not None else sys.stderr
        self.file = file

    def __call__(self, level: str, text: str, **fields: Any) -> None:
        at = dt.datetime.now(dt.UTC)
        if LEVELS[level] >= self.level:
            self.stream.write(self._line(at, level, text, fields, human=self.fmt == "human"))
            self.stream.flush()
        if self.file is not None and LEVELS[level] >= LEVELS["info"]:
            self.file.write(self._line(at, level, text, fields, human=self.fmt == "human", stamp=True))
            self.file.flush()

    def _line(
        self,
        at: dt.datetime,
        level: str,
        text: str,
        fields: dict[str, Any],
        *,
        human: bool,
        stamp: bool = False,
    ) -> str:
        if not human:
            record = {"ts": at.isoformat(timespec="milliseconds"), "level": level, "message": text}
            record.update({k: v for k, v in fields.items() if v is not None})
            return json.dumps(record, default=str, separators=(",", ":")) + "\n"
        prefix = f"{at:%Y-%m-%dT%H:%M:%SZ} " if stamp else ""
        if level in ("warning", "error"):
            prefix += f"{level}: "
        return f"{prefix}{text}\n"


def quiet() -> JobLog:
    """A log that writes nothing (for callers that only want the outcomes)."""
    return JobLog(level="error", stream=_Null())


class _Null:
    def write(self, _text: str) -> int:
        return 0

    def flush(self) -> None:
        pass
