"""Timing a command as a whole process: wall time and its own peak memory."""

from __future__ import annotations

import os
import subprocess
import tempfile
import time


def run_measured(args: list[str], env: dict[str, str]) -> tuple[float, int, str]:
    """Wall seconds, the child's own peak RSS in MB (from wait4), and its stderr.
    A failing command stops the benchmark with its error."""
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - started
        err.seek(0)
        stderr = err.read()
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"{' '.join(args)} failed ({code}):\n{stderr}")
    return elapsed, usage.ru_maxrss // 1024, stderr
