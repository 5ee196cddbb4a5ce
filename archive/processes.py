"""Whether a process still runs (psutil): how a crawl, an update, the archive
writer or an extraction worker that was killed is told from a live one."""
from __future__ import annotations

import datetime as _dt
import os
from typing import Optional, Union

import psutil

# a process that began this long after what it is said to have started is a
# later one that was given the same pid
_CLOCK_SLACK = 5.0


def process_alive(pid, started: Optional[Union[str, float]] = None) -> bool:
    """Whether process ``pid`` (on this machine) still runs and, given
    ``started`` (ISO text or a POSIX time), is the one that began then, not a
    later process given the same pid. A zombie (dead, not yet reaped) is not
    alive; another user's process is."""
    try:
        pid = int(pid)
    except (TypeError, ValueError):
        return False
    if pid <= 0:
        return False
    if pid == os.getpid():
        return True
    try:
        process = psutil.Process(pid)
        if process.status() in (psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD):
            return False
        if started is not None and process.create_time() > _timestamp(started) + _CLOCK_SLACK:
            return False
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:
        return True
    return True


def _timestamp(started: Union[str, float]) -> float:
    if isinstance(started, (int, float)):
        return float(started)
    return _dt.datetime.fromisoformat(str(started)).timestamp()
