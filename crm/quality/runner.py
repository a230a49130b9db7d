"""Run a suite: read its frames through a read-only DuckDB connection, validate them with Great
Expectations (ephemeral context, pandas datasource, one dataframe batch per frame), keep the
result as JSON.

GE's SQL datasource returns empty results on DuckDB, hence the pandas frames.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from crm.quality.suites.marts import SHARES_HISTORY
from crm.quality.suites.spec import Expectation, Suite
from crm.settings import TOKYO, duckdb_config

#: Statistics kept from GE's result of each expectation.
STATISTICS = (
    "element_count",
    "missing_count",
    "unexpected_count",
    "unexpected_percent",
    "observed_value",
    "partial_unexpected_list",
)
PARTIAL_LIMIT = 10


@dataclass
class ExpectationResult:
    name: str
    check_name: str
    severity: str
    type: str
    frame: str
    description: str
    kwargs: dict[str, Any]
    success: bool
    statistics: dict[str, Any] = field(default_factory=dict)
    exception: str | None = None

    @property
    def critical(self) -> bool:
        return self.severity == "critical"


@dataclass
class SuiteResult:
    suite: str
    target: list[str]
    as_of_date: str
    validated_at: str
    run_id: str | None
    tolerances: dict[str, Any]
    frame_rows: dict[str, int]
    results: list[ExpectationResult]

    @property
    def critical_failures(self) -> list[ExpectationResult]:
        return [r for r in self.results if r.critical and not r.success]

    @property
    def warning_failures(self) -> list[ExpectationResult]:
        return [r for r in self.results if not r.critical and not r.success]

    @property
    def success(self) -> bool:
        return not self.critical_failures

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["success"] = self.success
        data["critical_failures"] = [r.name for r in self.critical_failures]
        data["warning_failures"] = [r.name for r in self.warning_failures]
        return data


def _sql(text: str, conn: duckdb.DuckDBPyConnection, as_of: date) -> str:
    history = (
        "(select null::date as as_of_date, null::varchar as rfm_group, null::double as share "
        "where false)"
    )
    schema, table = SHARES_HISTORY.split(".")
    exists = conn.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [schema, table],
    ).fetchone()
    if exists and exists[0]:
        history = SHARES_HISTORY
    return text.replace("{as_of_date}", f"date '{as_of.isoformat()}'").replace(
        "{rfm_shares_history}", history
    )


def read_frames(
    conn: duckdb.DuckDBPyConnection, suite: Suite, as_of: date
) -> dict[str, pd.DataFrame]:
    return {name: conn.execute(_sql(sql, conn, as_of)).df() for name, sql in suite.frames.items()}


@cache
def _gx_context() -> Any:
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    asset = context.data_sources.add_pandas("crm_quality").add_dataframe_asset("frame")
    return context, asset.add_batch_definition_whole_dataframe("whole_frame")


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def validate_frame(frame: pd.DataFrame, expectations: list[Expectation]) -> list[ExpectationResult]:
    """Validate one frame against expectations (all on that frame); results in their order."""
    import great_expectations as gx

    context, batch_definition = _gx_context()
    suite = gx.ExpectationSuite(name=f"crm_{uuid.uuid4().hex}")
    for position, spec in enumerate(expectations):
        cls = getattr(gx.expectations, spec.type)
        suite.add_expectation(cls(**spec.kwargs, meta={"position": position}))
    suite = context.suites.add(suite)
    try:
        batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
        validation = batch.validate(suite, result_format="SUMMARY")
    finally:
        context.suites.delete(suite.name)
    by_position: dict[int, Any] = {
        int(r.expectation_config.meta["position"]): r for r in validation.results
    }
    results = []
    for position, spec in enumerate(expectations):
        raw = by_position[position].to_json_dict()
        stats = {k: raw["result"][k] for k in STATISTICS if k in (raw.get("result") or {})}
        if "partial_unexpected_list" in stats:
            stats["partial_unexpected_list"] = stats["partial_unexpected_list"][:PARTIAL_LIMIT]
        info = raw.get("exception_info") or {}
        exception = info.get("exception_message") if info.get("raised_exception") else None
        results.append(
            ExpectationResult(
                name=spec.name,
                check_name=spec.check_name,
                severity=spec.severity,
                type=spec.type,
                frame=spec.frame,
                description=spec.description,
                kwargs=_jsonable(spec.kwargs),
                success=bool(raw["success"]) and exception is None,
                statistics=_jsonable(stats),
                exception=exception,
            )
        )
    return results


def validate_frames(suite: Suite, frames: dict[str, pd.DataFrame]) -> list[ExpectationResult]:
    by_frame: dict[str, list[Expectation]] = {}
    for spec in suite.expectations:
        by_frame.setdefault(spec.frame, []).append(spec)
    done: dict[str, ExpectationResult] = {}
    for frame_name, specs in by_frame.items():
        for result in validate_frame(frames[frame_name], specs):
            done[result.name] = result
    return [done[spec.name] for spec in suite.expectations]


def run_suite(
    build_path: Path, suite: Suite, as_of: date, run_id: str | None = None
) -> SuiteResult:
    """Read the suite's frames from the warehouse (read-only) and validate them."""
    conn = duckdb.connect(str(build_path), read_only=True, config=duckdb_config(build_path))
    try:
        frames = read_frames(conn, suite, as_of)
    finally:
        conn.close()
    return SuiteResult(
        suite=suite.name,
        target=list(suite.target),
        as_of_date=as_of.isoformat(),
        validated_at=datetime.now(TOKYO).isoformat(timespec="seconds"),
        run_id=run_id,
        tolerances=_jsonable(suite.tolerances),
        frame_rows={name: len(frame) for name, frame in frames.items()},
        results=validate_frames(suite, frames),
    )


def quality_dir_for(build_path: Path) -> Path:
    """Where validation results and the HTML summaries are kept: ``quality/`` beside the
    warehouse file (``data/quality/`` by default)."""
    return build_path.parent / "quality"


def write_result(result: SuiteResult, quality_dir: Path) -> Path:
    """``<quality_dir>/<as-of date>/<suite>.json``, written aside and renamed into place."""
    folder = quality_dir / result.as_of_date
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{result.suite}.json"
    partial = path.with_suffix(".json.partial")
    partial.write_text(
        json.dumps(result.to_dict(), ensure_ascii=False, indent=2, default=str), encoding="utf-8"
    )
    partial.replace(path)
    return path


def record_rfm_shares(build_path: Path, as_of: date) -> None:
    """Keep tonight's RFM group shares in ``quality.rfm_group_shares_history`` (replacing a
    previous run of the same night) for tomorrow's comparison.

    A group whose count and share are unchanged keeps its ``recorded_at``, so running the same
    night again leaves the table exactly as it was."""
    conn = duckdb.connect(str(build_path), config=duckdb_config(build_path))
    try:
        conn.execute("create schema if not exists quality")
        conn.execute(
            f"""
            create table if not exists {SHARES_HISTORY} (
                as_of_date date not null,
                rfm_group varchar,
                customers bigint not null,
                share double not null,
                recorded_at timestamp not null
            )
            """
        )
        conn.execute("begin transaction")
        conn.execute(
            f"""
            create temp table _shares_tonight as
            with tonight as (
                select rfm_group, count(*) as customers,
                       count(*) / sum(count(*)) over () as share
                from marts.customer_rfm
                group by rfm_group
            )
            select ?::date as as_of_date, tonight.rfm_group, tonight.customers, tonight.share,
                   coalesce(recorded.recorded_at, now()::timestamp) as recorded_at
            from tonight
            left join {SHARES_HISTORY} as recorded
                on recorded.as_of_date = ?
                and recorded.rfm_group is not distinct from tonight.rfm_group
                and recorded.customers = tonight.customers
                and recorded.share = tonight.share
            """,
            [as_of, as_of],
        )
        conn.execute(f"delete from {SHARES_HISTORY} where as_of_date = ?", [as_of])
        conn.execute(f"insert into {SHARES_HISTORY} select * from _shares_tonight")
        conn.execute("drop table _shares_tonight")
        conn.execute("commit")
    finally:
        conn.close()
