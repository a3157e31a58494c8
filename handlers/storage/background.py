"""Worker threads that give way to the IOLoop: argon2 at full tilt.

A login storm keeps every hashing thread busy; at the same priority as the
IOLoop's thread, the scheduler shares a core between them equally, so each
socket's round trip waits behind hashes (p99 several times its idle value).
On Linux, where a thread has its own nice value, the hashing threads lower
theirs: the IOLoop runs first whenever it has work, and logins take the CPU
it leaves. Elsewhere (a nice value is per process) the threads are unchanged.
"""

from __future__ import annotations

import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

__all__ = ["low_priority_executor", "HASHING_NICENESS"]

HASHING_NICENESS = 10  # added to the nice value: CFS weight 1024 -> 110


def low_priority_executor(workers: int, prefix: str) -> ThreadPoolExecutor:
    """A pool whose threads run ``HASHING_NICENESS`` below the process, on Linux."""
    return ThreadPoolExecutor(
        workers, thread_name_prefix=prefix, initializer=_lower_priority
    )


def _lower_priority() -> None:
    if not sys.platform.startswith("linux"):
        return  # setpriority(PRIO_PROCESS, tid) would name a process there
    tid = threading.get_native_id()
    try:
        niceness = os.getpriority(os.PRIO_PROCESS, tid)
        os.setpriority(os.PRIO_PROCESS, tid, niceness + HASHING_NICENESS)
    except OSError:  # not permitted in a sandbox: run at the same priority
        pass
