"""The benchmark's phases; each runs in its own child process, started by ``benchmarks.run``:

    python -m benchmarks.phases <phase> <config.json> <result.json>

A phase reads its settings from the config (and the CRM_* / DBT_TARGET_PATH environment the
parent sets), does its work and writes a JSON result: what it did (rows, steps, timings) and
the getrusage high-water marks of itself and its descendants.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from benchmarks.dbt_timings import dbt_summary
from benchmarks.measure import own_peak_rss_mb

Result = dict[str, Any]


def tail_pattern(last_day: date) -> re.Pattern[str]:
    """File names of the generator's per-day files of ``last_day`` (``orders_2025-06-30...``)."""
    return re.compile(rf"_{last_day.isoformat()}(_part\d+)?\.")


def link_landing(gen_dir: Path, landing_dir: Path, last_day: date, tail: bool) -> int:
    """Hard-link the generated files into the landing area: the history (every file but the
    last day's) or the last day's files only. Returns the number of files linked."""
    pattern = tail_pattern(last_day)
    linked = 0
    for path in sorted(p for p in gen_dir.rglob("*") if p.is_file()):
        if bool(pattern.search(path.name)) != tail:
            continue
        target = landing_dir / path.relative_to(gen_dir)
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            continue
        try:
            os.link(path, target)
        except OSError:
            shutil.copy2(path, target)
        linked += 1
    return linked


def generate(cfg: Result) -> Result:
    from crm.demo import generate_shop

    out = Path(cfg["gen_dir"])
    summary = generate_shop(
        out,
        customers=cfg["customers"],
        days=cfg["days"],
        end_date=date.fromisoformat(cfg["end_date"]),
        seed=cfg["seed"],
        file_format=cfg["file_format"],
        daily_tail_days=1,
        workers=cfg["workers"],
        overwrite=True,
    )
    result: Result = {
        "rows": sum(summary.rows.values()),
        "rows_per_feed": dict(summary.rows),
        "files": len(summary.files),
        "bytes": sum(p.stat().st_size for p in summary.files),
    }
    if cfg["file_format"] == "parquet":  # rows of the history files and of the last day's
        import pyarrow.parquet as pq

        pattern = tail_pattern(date.fromisoformat(cfg["end_date"]))
        split: dict[str, dict[str, int]] = {"history": {}, "last_day": {}}
        for path in summary.files:
            part = split["last_day" if pattern.search(path.name) else "history"]
            feed = path.parent.name
            part[feed] = part.get(feed, 0) + pq.ParquetFile(path).metadata.num_rows
        result["rows_per_feed_history"] = split["history"]
        result["rows_per_feed_last_day"] = split["last_day"]
    return result


def _ledger(warehouse: Path, after_load_id: int) -> Result:
    import duckdb

    if not warehouse.exists():
        return {"max_load_id": 0, "rows_per_feed": {}, "rejected": 0, "files": 0}
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        tables = {r[0] for r in conn.execute("select table_name from duckdb_tables()").fetchall()}
        if "_load_ledger" not in tables:
            return {"max_load_id": 0, "rows_per_feed": {}, "rejected": 0, "files": 0}
        rows = conn.execute(
            "select feed, sum(rows_loaded), sum(rows_rejected), count(*) from raw._load_ledger "
            "where load_id > ? group by feed order by feed",
            [after_load_id],
        ).fetchall()
        top = conn.execute("select coalesce(max(load_id), 0) from raw._load_ledger").fetchone()
    return {
        "max_load_id": int(top[0]) if top else 0,
        "rows_per_feed": {feed: int(n) for feed, n, _, _ in rows},
        "rejected": sum(int(r) for _, _, r, _ in rows),
        "files": sum(int(f) for _, _, _, f in rows),
    }


def _steps(instance: Any, run_id: str) -> list[Result]:
    """Per Dagster step: seconds from its first start to its last end, status, and the row
    counts of its materializations (rows_loaded, rows_exported, rows_held_out)."""
    starts: dict[str, float] = {}
    ends: dict[str, tuple[float, str]] = {}
    rows: dict[str, int] = {}
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None or entry.step_key is None:
            continue
        kind = event.event_type_value
        if kind == "STEP_START":
            starts.setdefault(entry.step_key, entry.timestamp)
        elif kind in ("STEP_SUCCESS", "STEP_FAILURE", "STEP_SKIPPED"):
            ends[entry.step_key] = (entry.timestamp, kind)
        elif kind == "ASSET_MATERIALIZATION":
            metadata = event.event_specific_data.materialization.metadata
            for name in ("rows_loaded", "rows_exported", "rows_held_out"):
                if name in metadata:
                    rows[entry.step_key] = rows.get(entry.step_key, 0) + int(metadata[name].value)
    steps = []
    for key in sorted(set(starts) | set(ends)):
        end, status = ends.get(key, (starts.get(key, 0.0), "NOT_FINISHED"))
        begin = starts.get(key, end)
        steps.append(
            {
                "step": key,
                "seconds": round(end - begin, 3),
                "status": status.removeprefix("STEP_").lower(),
                "rows": rows.get(key, 0),
            }
        )
    return steps


def _job_run(job_name: str) -> tuple[bool, str, list[Result]]:
    import dagster as dg

    from crm.settings import Settings
    from orchestration.run import run_nightly

    settings = Settings.from_env()
    with dg.DagsterInstance.ephemeral() as instance:
        if job_name == "nightly":
            result = run_nightly(settings, instance=instance)
        else:
            from orchestration.definitions import build_definitions
            from orchestration.resources import WarehouseResource, apply_dbt_environment

            apply_dbt_environment(WarehouseResource.from_settings(settings))
            job = build_definitions(settings).resolve_job_def(job_name)
            result = job.execute_in_process(instance=instance, raise_on_error=False)
        return result.success, result.run_id, _steps(instance, result.run_id)


def build(cfg: Result, tail: bool) -> Result:
    """The nightly job on the landing area: the history (initial full build, fresh warehouse)
    or, with ``tail``, after the last day's files landed (the incremental nightly run)."""
    warehouse = Path(cfg["build_path"])  # raw and the ledger live there
    landing = Path(cfg["landing_dir"])
    if not tail:
        shutil.rmtree(warehouse.parent, ignore_errors=True)
        shutil.rmtree(landing, ignore_errors=True)
    before = _ledger(warehouse, 0)["max_load_id"]
    linked = link_landing(Path(cfg["gen_dir"]), landing, date.fromisoformat(cfg["end_date"]), tail)
    started = time.monotonic()
    ok, run_id, steps = _job_run("nightly")
    seconds = time.monotonic() - started
    ledger = _ledger(warehouse, before)
    return {
        "success": ok,
        "run_id": run_id,
        "files_linked": linked,
        "job_seconds": round(seconds, 3),
        "rows": sum(ledger["rows_per_feed"].values()),
        "rows_per_feed": ledger["rows_per_feed"],
        "rows_rejected": ledger["rejected"],
        "steps": steps,
        "dbt": dbt_summary(Path(os.environ["DBT_TARGET_PATH"]), run_id),
    }


def exports(cfg: Result) -> Result:
    """The exports job alone (every audience × channel), from the built warehouse."""
    started = time.monotonic()
    ok, run_id, steps = _job_run("exports")
    return {
        "success": ok,
        "run_id": run_id,
        "job_seconds": round(time.monotonic() - started, 3),
        "rows": sum(s["rows"] for s in steps),
        "steps": steps,
    }


def lower_bound(cfg: Result) -> Result:
    from benchmarks.peers import duckdb_lower_bound

    return duckdb_lower_bound(Path(cfg["build_path"]), repeats=3)


def pandas_peer(cfg: Result) -> Result:
    from benchmarks.peers import pandas_customer_facts_rfm

    return pandas_customer_facts_rfm(Path(cfg["landing_dir"]), date.fromisoformat(cfg["as_of"]))


def dbt_parse(cfg: Result) -> Result:
    from orchestration.dbt_project import ensure_manifest

    return {"manifest": str(ensure_manifest())}


PHASES: dict[str, Callable[[Result], Result]] = {
    "generate": generate,
    "dbt_parse": dbt_parse,
    "full_build": lambda cfg: build(cfg, tail=False),
    "nightly": lambda cfg: build(cfg, tail=True),
    "exports": exports,
    "lower_bound": lower_bound,
    "pandas_peer": pandas_peer,
}


def main(argv: list[str]) -> int:
    phase, config_path, result_path = argv
    cfg = json.loads(Path(config_path).read_text())
    started = time.monotonic()
    result = PHASES[phase](cfg)
    result["inner_seconds"] = round(time.monotonic() - started, 3)
    result["getrusage"] = own_peak_rss_mb()
    result["code_dir"] = str(Path(__file__).resolve().parent.parent)  # the snapshot it ran
    Path(result_path).write_text(json.dumps(result, indent=2, default=str))
    ok = result.get("success", True)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
