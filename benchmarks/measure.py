"""Timing a command as a whole process: wall time and its own peak memory."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile

# A forked child starts with its parent's memory, and its peak RSS counts it
# until exec: measured straight from a benchmark that holds a big book in
# memory, a small command looked large. So a tiny launcher forks the command
# and reports the command's own figures.
_LAUNCHER = """
import os, sys, time
report, args = sys.argv[1], sys.argv[2:]
started = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.execvp(args[0], args)
_, status, usage = os.wait4(pid, 0)
elapsed = time.perf_counter() - started
with open(report, "w") as f:
    f.write(f"{elapsed} {usage.ru_maxrss} {os.waitstatus_to_exitcode(status)}")
"""


def run_measured(args: list[str], env: dict[str, str]) -> tuple[float, int, str]:
    """Wall seconds, the command's own peak RSS in MB (from wait4), and its
    stderr. A failing command stops the benchmark with its error."""
    with tempfile.TemporaryDirectory() as tmp:
        report = os.path.join(tmp, "report")
        with open(os.path.join(tmp, "stderr"), "w+") as err:
            subprocess.run(
                [sys.executable, "-S", "-c", _LAUNCHER, report, *args],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=err,
                check=False,
            )
            err.seek(0)
            stderr = err.read()
        with open(report) as f:
            elapsed, peak_kb, code = f.read().split()
    if int(code) != 0:
        raise SystemExit(f"{' '.join(args)} failed ({code}):\n{stderr}")
    return float(elapsed), int(peak_kb) // 1024, stderr
