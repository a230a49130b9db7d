"""Run one phase in a child process and measure its wall time and peak memory.

Peak memory is measured two ways, both including every descendant (dbt, generator workers):

* ``peak_rss_tree_mb``: the parent samples the resident set of the whole process tree (the
  child and all its descendants, read from ``/proc``) every ``POLL_SECONDS``; the highest sum.
  This is what the machine had to hold at once; a spike shorter than the interval can be missed.
* ``peak_rss_process_mb``: the child reports ``getrusage`` high-water marks of itself and of its
  waited-for descendants (exact, but the largest single process, not a sum).

Disk is sampled alongside: the most space the phase took at once on the file system of the
working files (``peak_disk_used_gb``), spill files included.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

POLL_SECONDS = 0.2
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")
MB = 1024 * 1024


@dataclass
class PhaseRun:
    seconds: float
    peak_rss_tree_mb: float
    exit_code: int
    result: dict[str, object]
    #: Most disk space the phase took on the file system of its working files at any moment
    #: (free space at the start minus the least free space seen): the warehouse's growth plus
    #: DuckDB's spill files, which are gone again at the end.
    peak_disk_used_gb: float = 0.0


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        # the command name may contain spaces and parentheses: the ppid follows the last ')'
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    return children


def tree_rss_bytes(root: int) -> int:
    """Resident bytes of ``root`` and all its descendants right now (0 once it is gone)."""
    children = _children_map()
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        stack.extend(children.get(pid, []))
        try:
            resident = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
        except (OSError, IndexError, ValueError):
            continue
        total += resident * PAGE_BYTES
    return total


def free_bytes(path: Path) -> int:
    """Free bytes (for an unprivileged user) on the file system holding ``path``."""
    stats = os.statvfs(path)
    return stats.f_bavail * stats.f_frsize


def run_phase(
    args: list[str],
    env: dict[str, str],
    log_path: Path,
    result_path: Path,
    cwd: Path | None = None,
) -> PhaseRun:
    """Run ``python -m benchmarks.phases <args...> <result_path>`` in ``cwd``; the child writes
    its result JSON to ``result_path``, its output goes to ``log_path``."""
    result_path.parent.mkdir(parents=True, exist_ok=True)
    result_path.unlink(missing_ok=True)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    peak = 0
    free_at_start = least_free = free_bytes(log_path.parent)
    with log_path.open("w") as log:
        started = time.monotonic()
        child = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.phases", *args, str(result_path)],
            env=env,
            cwd=cwd,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        done = threading.Event()

        def poll() -> None:
            nonlocal peak, least_free
            while not done.is_set():
                peak = max(peak, tree_rss_bytes(child.pid))
                least_free = min(least_free, free_bytes(log_path.parent))
                done.wait(POLL_SECONDS)

        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
        code = child.wait()
        seconds = time.monotonic() - started
        done.set()
        poller.join()
    result = json.loads(result_path.read_text()) if result_path.exists() else {}
    disk_gb = round(max(0, free_at_start - least_free) / (MB * 1024), 3)
    return PhaseRun(seconds, round(peak / MB, 1), code, result, disk_gb)


def own_peak_rss_mb() -> dict[str, float]:
    """High-water RSS of this process and of its largest waited-for descendant (Linux: KiB)."""
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"self_mb": round(me, 1), "largest_child_mb": round(kids, 1)}
