"""Playbook runs: how they end and what the playbook learns from them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy.orm import Session


def settle_runs(session: Session, run_ids: Iterable[int], *, now: dt.datetime) -> None:
    """Complete each active run among `run_ids` whose tasks are all done or
    cancelled, judge its success criteria and refresh its playbook's metrics.

    Called by the tasks service whenever a task of a run is closed.
    """
    # Filled in with the playbook engine; closing tasks already calls it.
    return None
