"""``make bench``: generate a shop, build it, and measure every phase; see README "Benchmark".

    python -m benchmarks.run [--scale large|medium|small|tiny] [--customers N] [--days N]

Writes ``<results-dir>/<scale>/report.json`` and ``report.md``; working files (landing areas,
warehouses, logs) go to ``<work-dir>/<scale>/``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.measure import PhaseRun, run_phase
from benchmarks.report import (
    STEP_KINDS,
    baseline_of,
    machine_facts,
    peers_section,
    render_markdown,
    steps_by_kind,
    targets,
)

BENCH_DIR = Path(__file__).resolve().parent
#: (customers, days) per scale; large is issue 8's default.
SCALES = {
    "large": (2_000_000, 1095),
    "medium": (200_000, 1095),
    "small": (20_000, 1095),
    "tiny": (300, 60),
}
#: A fixed last day, so that every run of a scale builds the same shop.
END_DATE = date(2025, 12, 31)


@dataclass(frozen=True)
class Plan:
    scale: str
    customers: int
    days: int
    end_date: date
    seed: int
    workers: int
    work: Path
    results: Path
    #: Phase names to run (all when empty); a partial run still writes its report.
    only: tuple[str, ...] = ()
    #: dbt's target folder (a parsed manifest there is reused); default <work>/target.
    dbt_target: Path | None = None
    #: Add the phases run now to the report already in the results folder (``--merge``).
    merge: bool = False
    #: Run no phase: rewrite the report in the results folder from its phases (``--report-only``).
    report_only: bool = False

    @property
    def history_end(self) -> date:
        """The initial build's as-of date: the day before the last day."""
        return self.end_date - timedelta(days=1)


def snapshot_code(plan: Plan) -> Path:
    """A copy of the checkout's tracked files (as they are now, uncommitted edits included) in
    ``<work>/code``, which every phase runs from: editing the checkout while a long benchmark
    runs does not change what it measures. The checkout itself when it is not a git checkout."""
    try:
        listed = _git("ls-files", "-z", "--cached")
    except (OSError, subprocess.CalledProcessError):
        return BENCH_DIR.parent
    code = plan.work / "code"
    shutil.rmtree(code, ignore_errors=True)
    for name in filter(None, listed.split("\0")):
        source = BENCH_DIR.parent / name
        if source.is_file():  # a tracked file deleted in the checkout is left out
            target = code / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return code


def _env(plan: Plan, fmt: str, as_of: date, code: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "CRM_LANDING_DIR": str(plan.work / "landing" / fmt),
            "CRM_WAREHOUSE_PATH": str(plan.work / fmt / "warehouse.duckdb"),
            # Explicit: a CRM_BUILD_PATH inherited from the caller would build elsewhere.
            "CRM_BUILD_PATH": str(plan.work / fmt / "warehouse.build.duckdb"),
            "CRM_EXPORT_DIR": str(plan.work / fmt / "exports"),
            "CRM_AS_OF_DATE": as_of.isoformat(),
            # The generated files are complete when linked into the landing area (seconds
            # before the build): no quiet period to wait for.
            "CRM_LANDING_QUIET_SECONDS": "0",
            "DBT_TARGET_PATH": str(plan.dbt_target or plan.work / "target"),
            "PATH": str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", ""),
            "PYTHONPATH": str(code),
        }
    )
    return env


def _config(plan: Plan, fmt: str, as_of: date) -> dict[str, Any]:
    return {
        "customers": plan.customers,
        "days": plan.days,
        "end_date": plan.end_date.isoformat(),
        "as_of": as_of.isoformat(),
        "seed": plan.seed,
        "workers": plan.workers,
        "file_format": fmt,
        "gen_dir": str(plan.work / "gen" / fmt),
        "landing_dir": str(plan.work / "landing" / fmt),
        "build_path": str(plan.work / fmt / "warehouse.build.duckdb"),
    }


def _git(*args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=BENCH_DIR.parent, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def code_version() -> str:
    """The commit the benchmark runs (``+dirty`` with uncommitted changes), or ``unknown``."""
    try:
        head = _git("rev-parse", "--short=12", "HEAD")
        dirty = _git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


def _summary(run: PhaseRun, ran_at: str, commit: str) -> dict[str, Any]:
    result = run.result
    rows = int(result.get("rows", 0) or 0)
    usage = result.get("getrusage", {})
    return {
        "ran_at": ran_at,
        "commit": commit,
        "seconds": round(run.seconds, 2),
        "peak_rss_tree_mb": run.peak_rss_tree_mb,
        "peak_rss_process_mb": max(usage.values()) if usage else None,
        "peak_disk_used_gb": run.peak_disk_used_gb,
        "rows": rows,
        "rows_per_second": round(rows / run.seconds) if run.seconds > 0 else None,
        "exit_code": run.exit_code,
        "result": result,
    }


def plan_phases(plan: Plan) -> list[tuple[str, str, str, date]]:
    """(report name, phase, landing format, as-of date) in running order."""
    d0, d1 = plan.history_end, plan.end_date
    return [
        ("generate_parquet", "generate", "parquet", d1),
        ("generate_csv", "generate", "csv", d1),
        ("dbt_parse", "dbt_parse", "parquet", d0),
        ("full_build_parquet", "full_build", "parquet", d0),
        ("lower_bound", "lower_bound", "parquet", d0),
        ("pandas_peer", "pandas_peer", "parquet", d0),
        ("nightly_parquet", "nightly", "parquet", d1),
        ("exports_parquet", "exports", "parquet", d1),
        ("full_build_csv", "full_build", "csv", d0),
    ]


def run_benchmark(plan: Plan) -> dict[str, Any]:
    """Run the planned phases in order; the report is rewritten after every phase, so a run
    stopped part-way keeps the phases it finished (and ``--merge`` can add the rest later)."""
    if plan.report_only:
        earlier = earlier_phases(plan)
        report = _merged_report(plan, {}, earlier, None, [])
        # when and on what machine the phases ran, and the notes on how (merged, failed,
        # stopped), are the old report's; only the figures derived from the phases are new
        old = json.loads((plan.results / plan.scale / "report.json").read_text())
        for key in ("created_at", "machine", "notes"):
            report[key] = old.get(key, report[key])
        write_report(report, plan.results / plan.scale)
        return report
    plan.work.mkdir(parents=True, exist_ok=True)
    earlier = earlier_phases(plan) if plan.merge else {}
    phases: dict[str, dict[str, Any]] = {}
    commit = code_version()
    code = snapshot_code(plan)
    planned = [name for name, *_ in plan_phases(plan) if not plan.only or name in plan.only]
    report: dict[str, Any] = {}
    for name, phase, fmt, as_of in plan_phases(plan):
        if name not in planned:
            continue
        print(f"[bench {plan.scale}] {name} ...", flush=True)
        config = plan.work / "config" / f"{name}.json"
        config.parent.mkdir(parents=True, exist_ok=True)
        config.write_text(json.dumps(_config(plan, fmt, as_of), indent=2))
        ran_at = datetime.now(UTC).isoformat(timespec="seconds")
        run = run_phase(
            [phase, str(config)],
            _env(plan, fmt, as_of, code),
            plan.work / "logs" / f"{name}.log",
            plan.work / "results" / f"{name}.json",
            cwd=code,
        )
        phases[name] = _summary(run, ran_at, commit)
        print(
            f"[bench {plan.scale}] {name}: {run.seconds:.1f} s, "
            f"peak {run.peak_rss_tree_mb:,.0f} MB,"
            f" exit {run.exit_code}",
            flush=True,
        )
        failed = name if run.exit_code != 0 else None
        pending = [] if failed else planned[planned.index(name) + 1 :]
        report = _merged_report(plan, earlier, phases, failed, pending)
        write_report(report, plan.results / plan.scale)
        if failed:
            break
    return report


def _merged_report(
    plan: Plan,
    earlier: dict[str, dict[str, Any]],
    phases: dict[str, dict[str, Any]],
    failed: str | None,
    pending: list[str],
) -> dict[str, Any]:
    """The report of the phases run so far, with the earlier report's others (``--merge``)."""
    order = [name for name, *_ in plan_phases(plan)]
    kept = sorted(set(earlier) - set(phases), key=order.index)
    merged = {**earlier, **phases}
    report = build_report(plan, {name: merged[name] for name in order if name in merged})
    if kept:
        report["notes"].append(
            "Merged (--merge): "
            + ", ".join(f"{n} ({earlier[n].get('ran_at', '?')})" for n in kept)
            + " from an earlier invocation on the same generated shop; each phase gives its "
            "start time and commit."
        )
    if failed:
        report["notes"].append(f"phase {failed} failed; see {plan.work / 'logs' / failed}.log")
    if pending:
        report["notes"].append(
            "Still running or stopped before: " + ", ".join(pending) + " (rewritten after "
            "every phase; `--merge` adds the missing phases later)."
        )
    return report


def earlier_phases(plan: Plan) -> dict[str, dict[str, Any]]:
    """The phases of the report already in the results folder, for ``--merge``; refused when
    that report is of another shop (customers, days, seed or last day differ)."""
    path = plan.results / plan.scale / "report.json"
    if not path.exists():
        return {}
    report = json.loads(path.read_text())
    scale = report.get("scale", {})
    ours = {
        "customers": plan.customers,
        "days": plan.days,
        "seed": plan.seed,
        "end_date": plan.end_date.isoformat(),
    }
    theirs = {k: scale.get(k) for k in ours}
    if theirs != ours:
        raise SystemExit(f"--merge: {path} is of another shop ({theirs}), not of {ours}")
    return dict(report.get("phases", {}))


def _landed(phases: dict[str, dict[str, Any]]) -> dict[str, int]:
    landed: dict[str, int] = {}
    for name in ("full_build_parquet", "nightly_parquet"):
        for feed, n in phases.get(name, {}).get("result", {}).get("rows_per_feed", {}).items():
            landed[feed] = landed.get(feed, 0) + n
    return landed


def build_report(plan: Plan, phases: dict[str, dict[str, Any]]) -> dict[str, Any]:
    def result(name: str) -> dict[str, Any]:
        return phases.get(name, {}).get("result", {})

    by_kind: dict[str, dict[str, float]] = {}
    slowest: dict[str, list[dict[str, Any]]] = {}
    for name in ("full_build_parquet", "nightly_parquet", "exports_parquet", "full_build_csv"):
        steps = result(name).get("steps", [])
        if steps:
            by_kind[name] = steps_by_kind(steps)
        models = result(name).get("dbt", {}).get("slowest_models")
        if models:
            slowest[name] = models
    peers = peers_section(
        result("full_build_parquet"),
        result("lower_bound"),
        result("pandas_peer"),
        result("nightly_parquet"),
    )
    return {
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "scale": {
            "name": plan.scale,
            "customers": plan.customers,
            "days": plan.days,
            "start_date": (plan.end_date - timedelta(days=plan.days - 1)).isoformat(),
            "end_date": plan.end_date.isoformat(),
            "initial_build_as_of": plan.history_end.isoformat(),
            "nightly_as_of": plan.end_date.isoformat(),
            "seed": plan.seed,
            "generator_workers": plan.workers,
        },
        "machine": machine_facts(),
        "rows_per_feed": result("generate_parquet").get("rows_per_feed", {}),
        "rows_per_feed_csv": result("generate_csv").get("rows_per_feed", {}),
        "rows_per_feed_history": result("generate_parquet").get("rows_per_feed_history", {}),
        "rows_per_feed_last_day": result("generate_parquet").get("rows_per_feed_last_day", {}),
        "rows_per_feed_landed": _landed(phases),
        "rows_per_feed_landed_initial": result("full_build_parquet").get("rows_per_feed", {}),
        "rows_per_feed_landed_nightly": result("nightly_parquet").get("rows_per_feed", {}),
        "phases": phases,
        "step_kinds": [*dict.fromkeys(STEP_KINDS.values()), "other"],
        "steps_by_kind": by_kind,
        "slowest_models": slowest,
        "peers": peers,
        "targets": targets(phases, peers, plan.scale),
        "baseline": _baseline(plan),
        "notes": [
            "The shop is generated once per format with its last day as separate per-day files: "
            "the initial full build lands every other file and runs as of the day before; the "
            "nightly run lands the last day's files and runs as of the last day.",
            "Wall time is the phase's whole child process (Python start, Dagster, dbt parse "
            "where it happens, the work); peak memory is the sampled RSS of the process tree.",
            "Targets are set for the large scale on a 2-core / 24 GB machine.",
        ],
    }


BASELINE_FILE = "baseline.json"


def _baseline(plan: Plan) -> dict[str, Any]:
    """The figures the report is compared with, kept by ``--keep-as-baseline`` ({} if none)."""
    path = plan.results / plan.scale / BASELINE_FILE
    return json.loads(path.read_text()) if path.exists() else {}


def keep_as_baseline(plan: Plan) -> None:
    """Keep the figures of the report in the results folder as the baseline of the next ones."""
    folder = plan.results / plan.scale
    report = json.loads((folder / "report.json").read_text())
    text = json.dumps(baseline_of(report), indent=2, ensure_ascii=False) + "\n"
    (folder / BASELINE_FILE).write_text(text)


def write_report(report: dict[str, Any], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    (folder / "report.md").write_text(render_markdown(report))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", choices=sorted(SCALES), default="large")
    parser.add_argument("--customers", type=int, help="override the scale's customers")
    parser.add_argument("--days", type=int, help="override the scale's days of history")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--workers", type=int, default=2, help="generator processes")
    parser.add_argument("--work-dir", type=Path, default=BENCH_DIR / "work")
    parser.add_argument("--results-dir", type=Path, default=BENCH_DIR / "results")
    parser.add_argument("--clean", action="store_true", help="remove the working files after")
    parser.add_argument(
        "--phases", default="", help="comma-separated phase names to run (default: all)"
    )
    parser.add_argument("--dbt-target-path", type=Path, help="dbt target folder to use")
    parser.add_argument(
        "--merge",
        action="store_true",
        help="keep the phases of the report already in the results folder that are not run "
        "now (same shop): a long benchmark can run in parts",
    )
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="run no phase: rewrite report.json and report.md of the results folder from the "
        "phases it holds (after a change of the report's layout or targets)",
    )
    parser.add_argument(
        "--keep-as-baseline",
        action="store_true",
        help="before running, keep the figures of the report in the results folder as the "
        "baseline the new report is compared with (baseline.json)",
    )
    args = parser.parse_args(argv)
    customers, days = SCALES[args.scale]
    plan = Plan(
        scale=args.scale,
        customers=args.customers or customers,
        days=args.days or days,
        end_date=END_DATE,
        seed=args.seed,
        workers=args.workers,
        work=args.work_dir.resolve() / args.scale,
        results=args.results_dir.resolve(),
        only=tuple(p for p in args.phases.split(",") if p),
        dbt_target=args.dbt_target_path.resolve() if args.dbt_target_path else None,
        merge=args.merge,
        report_only=args.report_only,
    )
    unknown = set(plan.only) - {name for name, *_ in plan_phases(plan)}
    if unknown:
        parser.error(f"unknown phase(s): {', '.join(sorted(unknown))}")
    if args.keep_as_baseline:
        keep_as_baseline(plan)
    report = run_benchmark(plan)
    print(render_markdown(report))
    print(f"Report: {plan.results / plan.scale / 'report.json'} (and report.md)")
    if args.clean:
        shutil.rmtree(plan.work, ignore_errors=True)
    failed = [n for n, p in report["phases"].items() if p["exit_code"] != 0]
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
