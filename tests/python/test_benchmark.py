"""The benchmark harness (``make bench``) end to end at a tiny scale: phases run in their own
processes, the report has its structure, and its numbers are positive and add up."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PHASES = ("generate_parquet", "full_build_parquet", "lower_bound", "pandas_peer")


def _start(tmp_path: Path, phases: tuple[str, ...], *extra: str) -> subprocess.Popen[str]:
    target = Path(os.environ.get("DBT_TARGET_PATH") or REPO / "target")  # reuse a parsed manifest
    return subprocess.Popen(
        [
            sys.executable, "-m", "benchmarks.run", "--scale", "tiny",
            "--customers", "300", "--days", "60",
            "--work-dir", str(tmp_path / "work"), "--results-dir", str(tmp_path / "results"),
            "--dbt-target-path", str(target), "--phases", ",".join(phases), *extra,
        ],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def _bench(tmp_path: Path, phases: tuple[str, ...], *extra: str) -> None:
    done = _start(tmp_path, phases, *extra)
    output, _ = done.communicate(timeout=900)
    assert done.returncode == 0, output[-6000:]


def _first_report(folder: Path, bench: subprocess.Popen[str]) -> dict:
    """The report as first written, while the benchmark still runs (polled every 0.1 s)."""
    path = folder / "report.json"
    deadline = time.monotonic() + 600
    while not path.exists() and bench.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    return json.loads(path.read_text())


@pytest.mark.slow
def test_benchmark_report_at_a_tiny_scale(tmp_path: Path):
    folder = tmp_path / "results" / "tiny"
    bench = _start(tmp_path, PHASES)
    # the report is written after every phase: a run stopped part-way keeps what it finished
    partial = _first_report(folder, bench)
    output, _ = bench.communicate(timeout=900)
    assert bench.returncode == 0, output[-6000:]
    assert list(partial["phases"]) == ["generate_parquet"]
    assert any(
        n.startswith("Still running or stopped before: full_build_parquet, lower_bound")
        for n in partial["notes"]
    )
    report = json.loads((folder / "report.json").read_text())
    assert "# Benchmark: scale tiny" in (folder / "report.md").read_text()

    assert report["scale"]["customers"] == 300 and report["scale"]["days"] == 60
    assert report["machine"]["cores"] >= 1 and report["machine"]["ram_gb"] > 0
    assert report["machine"]["versions"]["duckdb"]
    assert set(report["phases"]) == set(PHASES)
    assert not any(n.startswith("Still running") for n in report["notes"])
    for name, phase in report["phases"].items():
        assert phase["exit_code"] == 0, name
        assert phase["seconds"] > 0 and phase["peak_rss_tree_mb"] > 0, name
        assert phase["peak_disk_used_gb"] >= 0, name
        assert phase["rows"] > 0 and phase["rows_per_second"] > 0, name
        # every phase ran from the snapshot of the checkout, not from the checkout itself
        assert phase["result"]["code_dir"] == str(tmp_path / "work" / "tiny" / "code"), name
    # a full build writes a warehouse file: it took disk space
    assert report["phases"]["full_build_parquet"]["peak_disk_used_gb"] > 0

    # rows per feed: generated = history + last day; the initial build landed the history
    generated = report["rows_per_feed"]
    history, last_day = report["rows_per_feed_history"], report["rows_per_feed_last_day"]
    assert generated["orders"] > 0 and generated["sessions"] > 0
    for feed, rows in generated.items():
        assert rows == history.get(feed, 0) + last_day.get(feed, 0), feed
    assert report["rows_per_feed_landed_initial"] == {f: n for f, n in history.items() if n}
    phases = report["phases"]
    assert phases["full_build_parquet"]["rows"] == sum(history.values())
    assert phases["generate_parquet"]["rows"] == sum(generated.values())
    assert phases["lower_bound"]["rows"] == history["orders"]

    # the dbt timings, the peers and the targets
    assert len(report["slowest_models"]["full_build_parquet"]) == 10
    assert report["steps_by_kind"]["full_build_parquet"]["dbt build"] > 0
    assert report["steps_by_kind"]["full_build_parquet"]["load"] > 0
    ours = report["peers"]["ours"]
    assert 0 < ours["customer_facts_model_seconds"] <= ours["customer_facts_closure_seconds"]
    assert ours["customer_facts_closure_seconds"] <= ours["customer_facts_rfm_closure_seconds"]
    assert report["peers"]["duckdb_lower_bound"]["seconds"] > 0
    assert report["peers"]["pandas"]["customers"] > 0
    ratios = report["peers"]["ratios"]
    nightly = {k for k in ratios if "nightly" in k}
    assert nightly and all(ratios[k] is None for k in nightly)  # no nightly phase here
    assert all(r > 0 for k, r in ratios.items() if k not in nightly)
    names = [t["target"] for t in report["targets"]]
    assert len(names) == 9
    measured = {t["target"]: t["met"] for t in report["targets"]}
    assert measured["nightly incremental run"] is None  # not run here: no value, no verdict
    assert isinstance(measured["initial full build from Parquet"], bool)

    # --merge: a later invocation adds or re-runs phases and keeps the others of the same shop
    first = report["phases"]
    assert all(p["ran_at"] and p["commit"] for p in first.values())
    _bench(tmp_path, ("lower_bound",), "--merge")
    merged = json.loads((folder / "report.json").read_text())
    assert list(merged["phases"]) == list(first)
    for name in PHASES:
        kept = name != "lower_bound"
        assert (merged["phases"][name] == first[name]) is kept, name
    assert any(n.startswith("Merged (--merge): generate_parquet") for n in merged["notes"])
    assert merged["peers"]["ratios"] and merged["targets"]  # computed over the merged phases
    # --report-only: the report rewritten from the phases it holds, none run again
    (folder / "report.md").unlink()
    _bench(tmp_path, (), "--report-only")
    rewritten = json.loads((folder / "report.json").read_text())
    assert rewritten["phases"] == merged["phases"]
    assert rewritten["targets"] == merged["targets"]
    assert "# Benchmark: scale tiny" in (folder / "report.md").read_text()
    # --keep-as-baseline: the next report is compared with this one's figures
    _bench(tmp_path, (), "--report-only", "--keep-as-baseline")
    compared = json.loads((folder / "report.json").read_text())
    assert (
        compared["baseline"]["runs"]["full_build_parquet"]["wall"]
        == (merged["phases"]["full_build_parquet"]["seconds"])
    )
    assert "## Against the baseline" in (folder / "report.md").read_text()
    # ... and refuses to merge a report of another shop
    with pytest.raises(AssertionError, match="another shop"):
        _bench(tmp_path, ("lower_bound",), "--merge", "--seed", "7")
