"""The benchmark report: machine facts, targets with met/missed, and its Markdown rendering."""

from __future__ import annotations

import os
import platform
from importlib import metadata
from pathlib import Path
from typing import Any

from crm.settings import duckdb_config

Report = dict[str, Any]
GB = 1024.0

#: Issue 8's targets (meant for the large scale on a 2-core / 24 GB machine).
FULL_BUILD_MAX_S = 360.0
NIGHTLY_MAX_S = 60.0
PEAK_MAX_MB = 8 * 1024.0
PANDAS_MIN_SPEEDUP = 10.0
LOWER_BOUND_MAX_RATIO = 5.0
#: Issue 21's targets: load + raw gates in the initial build from Parquet and in the nightly run,
#: seconds, at large and (every smaller scale) at medium.
LANDING_MAX_S = {"large": (150.0, 10.0), "medium": (20.0, 5.0)}
#: The initial build from CSV (one CP932 feed) at most this many times the one from Parquet.
CSV_MAX_RATIO = 1.5
#: The warehouse file, the raw layer and spill together at most (the phases' peak disk).
DISK_MAX_GB = 40.0
PACKAGES = ("duckdb", "dbt-core", "dbt-duckdb", "dagster", "dagster-dbt", "pandas", "pyarrow")
#: Phases that run the warehouse (the product); their peak memory is what the target is about.
WAREHOUSE_PHASES = ("full_build_parquet", "nightly_parquet", "exports_parquet", "full_build_csv")


#: What a Dagster step of the nightly job is, by its key's prefix.
STEP_KINDS = {
    "raw": "load",
    "quality_raw": "raw gates",
    "quality": "mart gates",
    "crm_dbt_models": "dbt build",
    "exports": "exports",
    "docs": "docs site",
    "publish": "publish",
}


def step_kind(step_key: str) -> str:
    return next((k for p, k in STEP_KINDS.items() if step_key.startswith(p)), "other")


def machine_facts() -> Report:
    meminfo = Path("/proc/meminfo")
    ram_kb = 0
    if meminfo.exists():
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram_kb = int(line.split()[1])
    cpu = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        cpu = next(
            (
                line.split(":", 1)[1].strip()
                for line in cpuinfo.read_text().splitlines()
                if line.startswith("model name")
            ),
            "",
        )
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "cores": os.cpu_count(),
        "usable_cores": usable,
        "cpu": cpu,
        "ram_gb": round(ram_kb / 1024 / 1024, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "versions": versions,
        "duckdb_settings": duckdb_config(),
        "dbt_threads": os.environ.get("CRM_DBT_THREADS", "2"),
    }


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    if not numerator or not denominator:
        return None
    return round(numerator / denominator, 2)


def peers_section(full_build: Report, lower: Report, pandas: Report, nightly: Report) -> Report:
    dbt = full_build.get("dbt", {})
    night = nightly.get("dbt", {})
    ours_facts = dbt.get("customer_facts_closure_seconds")
    ours_facts_rfm = dbt.get("customer_facts_rfm_closure_seconds")
    return {
        "ours": {
            "customer_facts_model_seconds": dbt.get("customer_facts_model_seconds"),
            "customer_facts_closure_seconds": ours_facts,
            "customer_facts_rfm_closure_seconds": ours_facts_rfm,
            "nightly_customer_facts_model_seconds": night.get("customer_facts_model_seconds"),
            "nightly_customer_facts_rfm_closure_seconds": night.get(
                "customer_facts_rfm_closure_seconds"
            ),
            "note": "sums of dbt execution times (run_results.json) of customer_facts (and "
            "customer_rfm) alone or with every model and seed upstream of them, in the initial "
            "full build from Parquet and in the nightly run; loading raw is not included (the "
            "pandas peer reads Parquet). The targets use the model alone for the lower bound "
            "(issue 8: 'the customer-facts step alone') and the whole initial-build closure "
            "for pandas (both compute from all of the history)",
        },
        "duckdb_lower_bound": lower,
        "pandas": pandas,
        "ratios": {
            "facts_closure_vs_lower_bound": _ratio(ours_facts, lower.get("seconds")),
            "facts_model_vs_lower_bound": _ratio(
                dbt.get("customer_facts_model_seconds"), lower.get("seconds")
            ),
            "nightly_facts_model_vs_lower_bound": _ratio(
                night.get("customer_facts_model_seconds"), lower.get("seconds")
            ),
            "pandas_vs_facts_rfm_closure": _ratio(pandas.get("seconds"), ours_facts_rfm),
            "pandas_vs_nightly_facts_rfm_closure": _ratio(
                pandas.get("seconds"), night.get("customer_facts_rfm_closure_seconds")
            ),
        },
    }


def _target(name: str, value: float | None, limit: float, unit: str, at_most: bool) -> Report:
    met = None if value is None else (value <= limit if at_most else value >= limit)
    return {
        "target": name,
        "limit": f"{'≤' if at_most else '≥'} {limit:g} {unit}".strip(),
        "value": value,
        "unit": unit,
        "met": met,
    }


def steps_by_kind(steps: list[Report]) -> dict[str, float]:
    """Seconds per kind of Dagster step of one run."""
    kinds: dict[str, float] = {}
    for s in steps:
        kind = step_kind(s["step"])
        kinds[kind] = round(kinds.get(kind, 0.0) + s["seconds"], 2)
    return kinds


def landing_seconds(kinds: dict[str, float]) -> float | None:
    """Load + raw gates of one run (None when the run has no steps on record)."""
    if not kinds:
        return None
    return round(kinds.get("load", 0.0) + kinds.get("raw gates", 0.0), 2)


def targets(phases: dict[str, Report], peers: Report, scale: str = "large") -> list[Report]:
    # a phase that failed measured no complete run: its targets are not judged
    done = {name: phase for name, phase in phases.items() if phase.get("exit_code", 0) == 0}

    def seconds(name: str) -> float | None:
        return done[name]["seconds"] if name in done else None

    def landing(name: str) -> float | None:
        steps = done.get(name, {}).get("result", {}).get("steps", [])
        return landing_seconds(steps_by_kind(steps))

    initial_max, nightly_max = LANDING_MAX_S.get(scale, LANDING_MAX_S["medium"])
    disks = [done[p].get("peak_disk_used_gb") or 0.0 for p in WAREHOUSE_PHASES if p in done]

    peaks = [done[p]["peak_rss_tree_mb"] for p in WAREHOUSE_PHASES if p in done]
    ratios = peers["ratios"]
    return [
        _target(
            "initial full build from Parquet",
            seconds("full_build_parquet"),
            FULL_BUILD_MAX_S,
            "s",
            True,
        ),
        _target("nightly incremental run", seconds("nightly_parquet"), NIGHTLY_MAX_S, "s", True),
        _target(
            "peak memory of the warehouse phases",
            max(peaks) if peaks else None,
            PEAK_MAX_MB,
            "MB",
            True,
        ),
        _target(
            "speed-up over pandas (facts + RFM)",
            ratios["pandas_vs_facts_rfm_closure"],
            PANDAS_MIN_SPEEDUP,
            "×",
            False,
        ),
        _target(
            "customer facts model vs the lower bound",
            ratios["facts_model_vs_lower_bound"],
            LOWER_BOUND_MAX_RATIO,
            "×",
            True,
        ),
        _target(
            "load + raw gates, initial build from Parquet",
            landing("full_build_parquet"),
            initial_max,
            "s",
            True,
        ),
        _target(
            "load + raw gates, nightly run", landing("nightly_parquet"), nightly_max, "s", True
        ),
        _target(
            "initial build from CSV / from Parquet",
            _ratio(seconds("full_build_csv"), seconds("full_build_parquet")),
            CSV_MAX_RATIO,
            "×",
            True,
        ),
        _target(
            "peak disk of the warehouse phases (file, raw layer, spill)",
            max(disks) if disks else None,
            DISK_MAX_GB,
            "GB",
            True,
        ),
    ]


#: The runs and figures compared with the baseline.
BASELINE_RUNS = ("full_build_parquet", "nightly_parquet", "full_build_csv")


def baseline_of(report: Report) -> Report:
    """The figures of a report kept to compare later reports with (``--keep-as-baseline``)."""
    runs = {}
    for name in BASELINE_RUNS:
        phase = report.get("phases", {}).get(name)
        if not phase or phase.get("exit_code", 0) != 0:
            continue
        kinds = steps_by_kind(phase.get("result", {}).get("steps", []))
        runs[name] = {
            "wall": phase["seconds"],
            "load + raw gates": landing_seconds(kinds),
            **kinds,
            "peak MB": phase["peak_rss_tree_mb"],
        }
    commits = sorted({p.get("commit", "") for n, p in report.get("phases", {}).items()} - {""})
    return {"created_at": report.get("created_at"), "commits": commits, "runs": runs}


def comparison(report: Report) -> list[Report]:
    """Rows of baseline against now, per run and figure, for the runs both have."""
    base = report.get("baseline", {}).get("runs", {})
    now = baseline_of(report)["runs"]
    rows = []
    for run in BASELINE_RUNS:
        if run not in base or run not in now:
            continue
        for figure in (
            "wall",
            "load + raw gates",
            "load",
            "raw gates",
            "mart gates",
            "dbt build",
            "peak MB",
        ):
            before, after = base[run].get(figure), now[run].get(figure)
            if before is None and after is None:
                continue
            rows.append(
                {
                    "run": run,
                    "figure": figure,
                    "baseline": before,
                    "now": after,
                    "ratio": _ratio(after, before),
                }
            )
    return rows


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def render_markdown(report: Report) -> str:
    scale = report["scale"]
    machine = report["machine"]
    lines = [
        f"# Benchmark: scale {scale['name']}",
        "",
        f"{scale['customers']:,} customers, {scale['days']} days ({scale['start_date']} .. "
        f"{scale['end_date']}), seed {scale['seed']}; run {report['created_at']}.",
        f"Machine: {machine['cores']} cores ({machine['cpu']}), {machine['ram_gb']} GB RAM, "
        f"Python {machine['python']}, DuckDB {machine['versions'].get('duckdb')}, "
        f"dbt {machine['versions'].get('dbt-core')}; DuckDB settings "
        f"{machine['duckdb_settings']}.",
        "",
        "## Targets",
        "",
        "| target | limit | value | met |",
        "|---|---|---|---|",
    ]
    for t in report["targets"]:
        met = {True: "met", False: "**missed**", None: "–"}[t["met"]]
        lines.append(f"| {t['target']} | {t['limit']} | {_fmt(t['value'])} {t['unit']} | {met} |")
    lines += [
        "",
        "## Phases (each in its own process)",
        "",
        "| phase | wall s | peak RSS MB (tree) | peak MB (largest process) | peak disk GB "
        "| rows | rows/s | started (UTC) | commit |",
        "|---|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for name, p in report["phases"].items():
        lines.append(
            f"| {name} | {_fmt(p['seconds'])} | {_fmt(p['peak_rss_tree_mb'])} | "
            f"{_fmt(p['peak_rss_process_mb'])} | {_fmt(p.get('peak_disk_used_gb'))} | "
            f"{_fmt(p['rows'])} | {_fmt(p['rows_per_second'])} | {p.get('ran_at', '–')} | "
            f"{p.get('commit', '–')} |"
        )
    lines += [
        "",
        "## Rows per feed",
        "",
        "| feed | generated | history files | last day's files | landed: initial build "
        "| landed: nightly |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for feed, n in report["rows_per_feed"].items():
        cells = [
            report[key].get(feed)
            for key in (
                "rows_per_feed_history",
                "rows_per_feed_last_day",
                "rows_per_feed_landed_initial",
                "rows_per_feed_landed_nightly",
            )
        ]
        lines.append(f"| {feed} | {n:,} | " + " | ".join(_fmt(c) for c in cells) + " |")
    lines += [
        "",
        "## Where the time goes (Dagster steps, seconds)",
        "",
        "| run | " + " | ".join(report["step_kinds"]) + " |",
        "|---|" + "---:|" * len(report["step_kinds"]),
    ]
    for run, kinds in report["steps_by_kind"].items():
        lines.append(
            f"| {run} | " + " | ".join(_fmt(kinds.get(k)) for k in report["step_kinds"]) + " |"
        )
    if report.get("baseline"):
        base = report["baseline"]
        lines += [
            "",
            f"## Against the baseline (report of {base.get('created_at')}, commit "
            f"{', '.join(base.get('commits', []))})",
            "",
            "| run | figure | baseline | now | now / baseline |",
            "|---|---|---:|---:|---:|",
        ]
        lines += [
            f"| {r['run']} | {r['figure']} | {_fmt(r['baseline'])} | {_fmt(r['now'])} | "
            f"{_fmt(r['ratio'])} |"
            for r in comparison(report)
        ]
    for run, models in report["slowest_models"].items():
        lines += [
            "",
            f"## Slowest ten models: {run}",
            "",
            "| model | materialized | s |",
            "|---|---|---:|",
        ]
        lines += [f"| {m['model']} | {m['materialized']} | {m['seconds']:.2f} |" for m in models]
    peers = report["peers"]
    ours, ratios = peers["ours"], peers["ratios"]
    lines += [
        "",
        "## Peers",
        "",
        "| measure | seconds |",
        "|---|---:|",
        f"| DuckDB lower bound: one scan of raw.orders grouped by customer | "
        f"{_fmt(peers['duckdb_lower_bound'].get('seconds'))} |",
        f"| pandas customer facts + RFM (read Parquet included) | "
        f"{_fmt(peers['pandas'].get('seconds'))} |",
        f"| ours: customer_facts model alone | {_fmt(ours['customer_facts_model_seconds'])} |",
        f"| ours: customer_facts with everything upstream | "
        f"{_fmt(ours['customer_facts_closure_seconds'])} |",
        f"| ours: customer_facts + customer_rfm with everything upstream | "
        f"{_fmt(ours['customer_facts_rfm_closure_seconds'])} |",
        f"| ours, nightly run: customer_facts model alone | "
        f"{_fmt(ours.get('nightly_customer_facts_model_seconds'))} |",
        f"| ours, nightly run: customer_facts + customer_rfm with everything upstream | "
        f"{_fmt(ours.get('nightly_customer_facts_rfm_closure_seconds'))} |",
        "",
        f"Ratios: customer facts model / lower bound = "
        f"{_fmt(ratios['facts_model_vs_lower_bound'])}× (nightly "
        f"{_fmt(ratios.get('nightly_facts_model_vs_lower_bound'))}×; with everything upstream "
        f"{_fmt(ratios['facts_closure_vs_lower_bound'])}×); pandas / ours (facts + RFM with "
        f"everything upstream) = {_fmt(ratios['pandas_vs_facts_rfm_closure'])}× in the initial "
        f"build, {_fmt(ratios.get('pandas_vs_nightly_facts_rfm_closure'))}× in the nightly "
        f"run. {ours['note']}.",
    ]
    if report.get("notes"):
        lines += ["", "## Notes", ""] + [f"- {n}" for n in report["notes"]]
    return "\n".join(lines) + "\n"
