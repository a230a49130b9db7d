"""Parts of the benchmark harness without a run: a failed phase judges no target, and landing
the last day's files again (a phase re-run after a failure) keeps the files already there."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from benchmarks.phases import link_landing
from benchmarks.report import baseline_of, comparison, peers_section, targets


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


def _run(seconds: float, load: float, gates: float) -> dict:
    steps = [
        {"step": "raw__orders", "seconds": load},
        {"step": "quality_raw_orders", "seconds": gates},
        {"step": "quality_marts_customer_rfm", "seconds": 100.0},  # a mart gate: not landing
        {"step": "crm_dbt_models", "seconds": seconds - load - gates - 100.0},
    ]
    return {**_phase(seconds, 0), "result": {"steps": steps}}


def test_landing_targets_add_load_and_raw_gates_by_scale() -> None:
    peers = peers_section({}, {}, {}, {})
    phases = {
        "full_build_parquet": _run(400.0, 12.0, 7.0),
        "nightly_parquet": _run(150.0, 4.0, 2.0),
        "full_build_csv": _run(700.0, 300.0, 7.0),
    }
    medium = {t["target"]: t for t in targets(phases, peers, "medium")}
    large = {t["target"]: t for t in targets(phases, peers, "large")}
    initial = "load + raw gates, initial build from Parquet"
    assert medium[initial]["value"] == 19.0 and medium[initial]["met"] is True
    nightly = "load + raw gates, nightly run"
    assert medium[nightly]["value"] == 6.0 and medium[nightly]["met"] is False
    assert large[nightly]["met"] is True  # 10 s at large
    csv = medium["initial build from CSV / from Parquet"]
    assert csv["value"] == 1.75 and csv["met"] is False


def test_the_report_is_compared_with_its_baseline() -> None:
    before = {"phases": {"full_build_parquet": _run(400.0, 100.0, 120.0)}}
    after = {"phases": {"full_build_parquet": _run(200.0, 10.0, 6.0)}}
    rows = {r["figure"]: r for r in comparison({**after, "baseline": baseline_of(before)})}
    assert rows["load + raw gates"]["baseline"] == 220.0
    assert rows["load + raw gates"]["now"] == 16.0
    assert rows["wall"]["ratio"] == 0.5
    assert rows["mart gates"]["ratio"] == 1.0


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
