"""Parts of the benchmark harness without a run: a failed phase judges no target, and landing
the last day's files again (a phase re-run after a failure) keeps the files already there."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from benchmarks.phases import link_landing
from benchmarks.report import peers_section, targets


def _phase(seconds: float, exit_code: int) -> dict:
    return {"seconds": seconds, "peak_rss_tree_mb": 100.0, "exit_code": exit_code}


def test_a_failed_phase_meets_no_target() -> None:
    peers = peers_section({}, {}, {}, {})
    judged = {
        t["target"]: t
        for t in targets(
            {"full_build_parquet": _phase(30.0, 0), "nightly_parquet": _phase(0.2, 1)}, peers
        )
    }
    assert judged["initial full build from Parquet"]["met"] is True
    assert judged["nightly incremental run"]["value"] is None
    assert judged["nightly incremental run"]["met"] is None


def test_landing_the_last_day_again_keeps_the_files_there(tmp_path: Path) -> None:
    gen, landing = tmp_path / "gen", tmp_path / "landing"
    (gen / "orders").mkdir(parents=True)
    for day in ("2025-12-30", "2025-12-31"):
        (gen / "orders" / f"orders_{day}_part001.parquet").write_bytes(day.encode())
    last = date(2025, 12, 31)
    assert link_landing(gen, landing, last, tail=False) == 1
    assert link_landing(gen, landing, last, tail=True) == 1
    assert link_landing(gen, landing, last, tail=True) == 0  # again: nothing new, no error
    assert sorted(p.name for p in (landing / "orders").iterdir()) == [
        "orders_2025-12-30_part001.parquet",
        "orders_2025-12-31_part001.parquet",
    ]
