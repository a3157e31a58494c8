"""Run a bench server with its anatomy readable from outside (bench/anatomy.py).

``python bench/anatomy_probe.py OUT_DIR SCRIPT [ARGS...]`` runs ``SCRIPT`` as
``__main__`` with tracemalloc on (25 frames) and two signals:

- SIGUSR1: ``gc.collect()``, then a tracemalloc snapshot written (pickled) as
  ``OUT_DIR/snapshot-K.pickle`` (K counts from 0);
- SIGUSR2: cProfile on, or off and its stats written as ``OUT_DIR/profile-K.pstats``.

Signal handlers run between bytecodes on the main thread, which is the
IOLoop's: a snapshot sees the heap between two callbacks.
"""

from __future__ import annotations

import cProfile
import gc
import runpy
import signal
import sys
import tracemalloc
from pathlib import Path
from types import FrameType

FRAMES = 25


class Probe:
    def __init__(self, out: Path) -> None:
        self.out = out
        self.snapshots = 0
        self.profiles = 0
        self.profiler: cProfile.Profile | None = None

    def snapshot(self, signum: int, frame: FrameType | None) -> None:
        gc.collect()
        path = self.out / f"snapshot-{self.snapshots}.pickle"
        tracemalloc.take_snapshot().dump(str(path))
        self.snapshots += 1
        (self.out / f"snapshot-{self.snapshots - 1}.done").touch()

    def profile(self, signum: int, frame: FrameType | None) -> None:
        if self.profiler is None:
            self.profiler = cProfile.Profile()
            self.profiler.enable()
            return
        self.profiler.disable()
        path = self.out / f"profile-{self.profiles}.pstats"
        self.profiler.dump_stats(str(path))
        self.profiler = None
        self.profiles += 1
        (self.out / f"profile-{self.profiles - 1}.done").touch()


def main() -> None:
    out, script, *args = sys.argv[1:]
    probe = Probe(Path(out))
    tracemalloc.start(FRAMES)
    signal.signal(signal.SIGUSR1, probe.snapshot)
    signal.signal(signal.SIGUSR2, probe.profile)
    sys.argv = [script, *args]
    sys.path.insert(0, str(Path(script).resolve().parent))
    runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main()
