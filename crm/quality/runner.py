"""Run a suite and keep its result as JSON; Great Expectations (ephemeral context) judges every
expectation.

A mart suite reads its frames (small marts) through a read-only DuckDB connection and validates
them with GE's pandas datasource, one dataframe batch per frame.

A raw suite is evaluated in the warehouse (:mod:`crm.quality.sql_gate`), never read into pandas:
one aggregate query per frame counts, for every expectation, its rows, ignored rows, unexpected
rows and a few sample values; duplicate keys are found through a 64-bit hash, then checked
exactly on the candidates. GE then judges each expectation on a one-row frame of the share of
expected rows it observed (``mostly``, or every row without it), and the statistics kept are
those counted in SQL. (GE's own SQL datasource through ``duckdb_engine`` fails on DuckDB: every
metric query returns no row, "list index out of range".)

Raw suites validate only the loads their gate has not passed yet. ``quality.gated_loads`` in the
build database holds one row per feed: the feed's latest load (id and file SHA-256) when its
suite last passed without a critical failure, the as-of date and suite digest of that run, and
when (``record_gated_load``, called by the Dagster check). The next run reads the rows of the
loads after that mark (:func:`gate_scope`, ``{gated_load_id}``); when one of them is unexpected,
the frame is read again keeping only the latest version of each key among them, so a correction
landed after a failed night supersedes the bad rows. Every row is validated instead when
``CRM_QUALITY_FULL=1``, when the table or the feed's row is missing, when the suite's digest
changed, when tonight's as-of date is before the mark's, or when the marked load is no longer in
the ledger. A failed gate leaves the mark as it was; a re-run of the same night that changes
nothing leaves the row exactly as it was (``validated_at`` included).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import uuid
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from crm.file_modes import PRIVATE_DIR_MODE, PRIVATE_FILE_MODE, restrict
from crm.personal_data import mask_statistics
from crm.quality.sql_gate import Observation, observe_frame, observed_share
from crm.quality.suites.marts import SHARES_HISTORY
from crm.quality.suites.spec import Expectation, Suite
from crm.settings import TOKYO, duckdb_config, shop_now

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

#: One row per raw feed: the load up to which its suite passed (see the module docstring).
GATED_LOADS = "quality.gated_loads"
#: ``1`` makes every raw suite validate every row (and re-mark the feeds when they pass).
FULL_ENV = "CRM_QUALITY_FULL"


@dataclass(frozen=True)
class GateScope:
    """Which loads of a raw feed a run of its suite validates."""

    feed: str
    #: Rows of the loads after this one are validated; 0 = every row.
    since_load_id: int
    #: The feed's latest loaded file now: the mark written when the suite passes (0 = none).
    through_load_id: int
    through_file_sha256: str | None
    suite_digest: str
    #: Why, in words (shown in the JSON result and the HTML report).
    reason: str

    @property
    def full(self) -> bool:
        return self.since_load_id == 0


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
    #: Frame name → its rows (raw suites: of the pass that was judged).
    frame_rows: dict[str, int]
    results: list[ExpectationResult]
    #: Raw suites: the loads validated (None for a mart suite).
    scope: GateScope | None = None

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


def _table_exists(conn: duckdb.DuckDBPyConnection, qualified: str) -> bool:
    schema, table = qualified.split(".")
    found = conn.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [schema, table],
    ).fetchone()
    return bool(found and found[0])


def _sql(
    text: str, conn: duckdb.DuckDBPyConnection, as_of: date, scope: GateScope | None = None
) -> str:
    """The frame's SQL for tonight."""
    history = (
        "(select null::date as as_of_date, null::varchar as rfm_group, null::double as share "
        "where false)"
    )
    if _table_exists(conn, SHARES_HISTORY):
        history = SHARES_HISTORY
    gated = scope.since_load_id if scope is not None else 0
    return (
        text.replace("{as_of_date}", f"date '{as_of.isoformat()}'")
        .replace("{rfm_shares_history}", history)
        .replace("{gated_load_id}", str(int(gated)))
    )


def full_validation_requested(env: dict[str, str] | None = None) -> bool:
    """``CRM_QUALITY_FULL=1`` (or true/yes): raw suites validate every row tonight."""
    value = (os.environ if env is None else env).get(FULL_ENV, "")
    return value.strip().lower() in ("1", "true", "yes")


def suite_digest(suite: Suite) -> str:
    """A fingerprint of what a suite checks (SQL, expectations, tolerances): a mark made by
    another version of the suite does not count."""
    content = {
        "frames": suite.frames,
        "frames_in_force": suite.frames_in_force,
        "expectations": [asdict(e) for e in suite.expectations],
        "tolerances": suite.tolerances,
    }
    text = json.dumps(content, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _latest_loaded(conn: duckdb.DuckDBPyConnection, feed: str) -> tuple[int, str | None]:
    row = conn.execute(
        "select load_id, file_sha256 from raw._load_ledger where feed = ? and status = 'loaded' "
        "order by load_id desc limit 1",
        [feed],
    ).fetchone()
    return (int(row[0]), row[1]) if row else (0, None)


def _mark_reason(
    conn: duckdb.DuckDBPyConnection, feed: str, digest: str, as_of: date
) -> tuple[int, str]:
    """The feed's usable mark (0 when there is none) and why."""
    if not _table_exists(conn, GATED_LOADS):
        return 0, f"every row: no {GATED_LOADS} table"
    mark = conn.execute(
        f"select load_id, file_sha256, as_of_date, suite_digest from {GATED_LOADS} where feed = ?",
        [feed],
    ).fetchone()
    if mark is None or not mark[0]:
        return 0, "every row: no load of the feed has passed the gate yet"
    load_id, sha256, marked_as_of, marked_digest = mark
    if marked_digest != digest:
        return 0, "every row: the suite changed since its last pass"
    if as_of < marked_as_of:
        return 0, f"every row: as of {as_of}, before the mark's {marked_as_of}"
    in_ledger = conn.execute(
        "select count(*) from raw._load_ledger where load_id = ? and feed = ? "
        "and status = 'loaded' and file_sha256 = ?",
        [load_id, feed, sha256],
    ).fetchone()
    if not (in_ledger and in_ledger[0]):
        return 0, f"every row: the marked load {load_id} is no longer in the ledger"
    return int(load_id), f"rows of the loads after {load_id}"


def gate_scope(
    conn: duckdb.DuckDBPyConnection, suite: Suite, as_of: date, full: bool = False
) -> GateScope | None:
    """What a raw suite validates tonight (None for a suite without a gated feed)."""
    if suite.gated_feed is None:
        return None
    feed = suite.gated_feed
    digest = suite_digest(suite)
    through, sha256 = _latest_loaded(conn, feed)
    if full:
        since, reason = 0, f"every row: {FULL_ENV}=1"
    else:
        since, reason = _mark_reason(conn, feed, digest, as_of)
    return GateScope(feed, since, through, sha256, digest, reason)


def read_frames(
    conn: duckdb.DuckDBPyConnection, suite: Suite, as_of: date
) -> dict[str, pd.DataFrame]:
    """Every frame of a mart suite, each whole (a raw suite is never read into pandas)."""
    if suite.in_sql:
        raise ValueError(f"{suite.name} is evaluated in SQL, its frames are not read whole")
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


def _release(batch: Any) -> None:
    """Drop what GE's (shared) pandas execution engine keeps of a validated frame: the frame
    itself and its cached metrics."""
    engine = batch.data.execution_engine
    engine.batch_manager.batch_data_cache.pop(batch.id, None)
    engine.batch_manager.reset_batch_cache()
    metric_cache = getattr(engine, "_metric_cache", None)
    if isinstance(metric_cache, dict):
        metric_cache.clear()


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
    batch = None
    try:
        batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
        validation = batch.validate(suite, result_format="SUMMARY")
    finally:
        context.suites.delete(suite.name)
        if batch is not None:
            _release(batch)
    by_position: dict[int, Any] = {
        int(r.expectation_config.meta["position"]): r for r in validation.results
    }
    results = []
    for position, spec in enumerate(expectations):
        raw = by_position[position].to_json_dict()
        stats = {k: raw["result"][k] for k in STATISTICS if k in (raw.get("result") or {})}
        if "partial_unexpected_list" in stats:
            stats["partial_unexpected_list"] = stats["partial_unexpected_list"][:PARTIAL_LIMIT]
        stats = mask_statistics(_jsonable(stats), _jsonable(spec.kwargs))  # before it is kept
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
                statistics=stats,
                exception=exception,
            )
        )
    return results


def _by_frame(suite: Suite) -> dict[str, list[Expectation]]:
    by_frame: dict[str, list[Expectation]] = {}
    for spec in suite.expectations:
        by_frame.setdefault(spec.frame, []).append(spec)
    return by_frame


def validate_frames(suite: Suite, frames: dict[str, pd.DataFrame]) -> list[ExpectationResult]:
    """Validate whole frames (as read by :func:`read_frames`); results in the suite's order."""
    done: dict[str, ExpectationResult] = {}
    for frame_name, specs in _by_frame(suite).items():
        for result in validate_frame(frames[frame_name], specs):
            done[result.name] = result
    return [done[spec.name] for spec in suite.expectations]


def _judgement(spec: Expectation) -> Expectation:
    """The GE expectation judging what the warehouse observed for ``spec``: the share of expected
    rows among those considered is at least ``mostly`` (every row without it)."""
    return Expectation(
        spec.name,
        "ExpectColumnValuesToBeBetween",
        {"column": spec.name, "min_value": float(spec.kwargs.get("mostly", 1.0))},
        spec.frame,
        spec.severity,
        spec.description,
    )


def judge_observations(
    suite: Suite, observations: dict[str, Observation]
) -> list[ExpectationResult]:
    """GE's verdict on each expectation of a suite evaluated in SQL (results in the suite's
    order, with the statistics counted in SQL; sample values of personal columns masked)."""
    import great_expectations as gx

    specs = list(suite.expectations)
    for spec in specs:  # the declaration must be a valid GE expectation
        getattr(gx.expectations, spec.type)(**spec.kwargs)
    shares = pd.DataFrame(
        {s.name: pd.Series([observed_share(observations[s.name])], dtype="float64") for s in specs}
    )
    verdicts = validate_frame(shares, [_judgement(s) for s in specs])
    return [
        replace(
            verdict,
            type=spec.type,
            kwargs=_jsonable(spec.kwargs),
            statistics=mask_statistics(
                _jsonable(observations[spec.name].statistics()), _jsonable(spec.kwargs)
            ),
        )
        for spec, verdict in zip(specs, verdicts, strict=True)
    ]


def _has_unexpected(observations: dict[str, Observation]) -> bool:
    return any(o.unexpected_count for o in observations.values())


def observe_suite(
    conn: duckdb.DuckDBPyConnection, suite: Suite, as_of: date, scope: GateScope | None
) -> tuple[dict[str, Observation], dict[str, int]]:
    """Every expectation of a suite evaluated in SQL, one aggregate pass per frame; a frame with
    an unexpected row is observed again through its ``frames_in_force`` SQL when it has one."""
    by_frame = _by_frame(suite)
    observations: dict[str, Observation] = {}
    rows: dict[str, int] = {}
    for name, sql in suite.frames.items():
        specs = by_frame.get(name, [])
        rows[name], found = observe_frame(conn, _sql(sql, conn, as_of, scope), specs)
        if _has_unexpected(found) and name in suite.frames_in_force:
            in_force = _sql(suite.frames_in_force[name], conn, as_of, scope)
            rows[name], found = observe_frame(conn, in_force, specs)
        observations.update(found)
    return observations, rows


def validate_suite(
    conn: duckdb.DuckDBPyConnection, suite: Suite, as_of: date, scope: GateScope | None
) -> tuple[list[ExpectationResult], dict[str, int]]:
    """Validate every frame of the suite: results in the suite's order, and each frame's rows."""
    if suite.in_sql:
        observations, rows = observe_suite(conn, suite, as_of, scope)
        return judge_observations(suite, observations), rows
    frames = read_frames(conn, suite, as_of)
    return validate_frames(suite, frames), {name: len(f) for name, f in frames.items()}


def run_suite(
    build_path: Path,
    suite: Suite,
    as_of: date,
    run_id: str | None = None,
    full: bool | None = None,
) -> SuiteResult:
    """Validate a suite against the warehouse (read-only).

    Raw suites read only the rows of the loads after their gate's mark, unless ``full``
    (default: ``CRM_QUALITY_FULL``) or there is no usable mark (see :func:`gate_scope`)."""
    if full is None:
        full = full_validation_requested()
    conn = duckdb.connect(str(build_path), read_only=True, config=duckdb_config(build_path))
    try:
        scope = gate_scope(conn, suite, as_of, full)
        results, frame_rows = validate_suite(conn, suite, as_of, scope)
    finally:
        conn.close()
    return SuiteResult(
        suite=suite.name,
        target=list(suite.target),
        as_of_date=as_of.isoformat(),
        validated_at=datetime.now(TOKYO).isoformat(timespec="seconds"),
        run_id=run_id,
        tolerances=_jsonable(suite.tolerances),
        frame_rows=frame_rows,
        results=results,
        scope=scope,
    )


def mask_result(result: SuiteResult) -> SuiteResult:
    """The result with every sample value of a personal column masked (see
    :func:`crm.personal_data.mask_statistics`; already done as each expectation is validated,
    done again here so that a result built elsewhere is never written unmasked)."""
    return replace(
        result,
        results=[
            replace(r, statistics=mask_statistics(r.statistics, r.kwargs)) for r in result.results
        ],
    )


def quality_dir_for(build_path: Path) -> Path:
    """Where validation results and the HTML summaries are kept: ``quality/`` beside the
    warehouse file (``data/quality/`` by default)."""
    return build_path.parent / "quality"


def write_result(result: SuiteResult, quality_dir: Path) -> Path:
    """``<quality_dir>/<as-of date>/<suite>.json``, written aside and renamed into place (0640
    in folders 0750; sample values of personal columns masked)."""
    folder = quality_dir / result.as_of_date
    folder.mkdir(parents=True, exist_ok=True)
    restrict(quality_dir, PRIVATE_DIR_MODE)
    restrict(folder, PRIVATE_DIR_MODE)
    path = folder / f"{result.suite}.json"
    partial = path.with_suffix(".json.partial")
    partial.write_text(
        json.dumps(mask_result(result).to_dict(), ensure_ascii=False, indent=2, default=str),
        encoding="utf-8",
    )
    restrict(partial, PRIVATE_FILE_MODE)
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
                   coalesce(recorded.recorded_at, ?::timestamp) as recorded_at
            from tonight
            left join {SHARES_HISTORY} as recorded
                on recorded.as_of_date = ?
                and recorded.rfm_group is not distinct from tonight.rfm_group
                and recorded.customers = tonight.customers
                and recorded.share = tonight.share
            """,
            [as_of, shop_now(), as_of],
        )
        conn.execute(f"delete from {SHARES_HISTORY} where as_of_date = ?", [as_of])
        conn.execute(f"insert into {SHARES_HISTORY} select * from _shares_tonight")
        conn.execute("drop table _shares_tonight")
        conn.execute("commit")
    finally:
        conn.close()


def record_gated_load(build_path: Path, result: SuiteResult) -> bool:
    """Mark the feed's loads validated by a raw suite that had no critical failure: its row in
    ``quality.gated_loads`` becomes tonight's latest load, as-of date and suite digest.

    A row that would not change keeps its ``validated_at``, so running the same night again
    leaves the table exactly as it was. Returns whether a mark was written (False for a failed
    suite or a mart suite)."""
    scope = result.scope
    if scope is None or not result.success:
        return False
    as_of = date.fromisoformat(result.as_of_date)
    mark = [scope.through_load_id, scope.through_file_sha256, as_of, scope.suite_digest]
    conn = duckdb.connect(str(build_path), config=duckdb_config(build_path))
    try:
        conn.execute("create schema if not exists quality")
        conn.execute(
            f"""
            create table if not exists {GATED_LOADS} (
                feed varchar not null,
                load_id bigint not null,
                file_sha256 varchar,
                as_of_date date not null,
                suite_digest varchar not null,
                validated_at timestamp not null
            )
            """
        )
        conn.execute("begin transaction")
        unchanged = conn.execute(
            f"""
            select count(*) from {GATED_LOADS}
            where feed = ? and load_id = ? and file_sha256 is not distinct from ?
                and as_of_date = ? and suite_digest = ?
            """,
            [scope.feed, *mark],
        ).fetchone()
        if not (unchanged and unchanged[0]):
            conn.execute(f"delete from {GATED_LOADS} where feed = ?", [scope.feed])
            conn.execute(
                f"insert into {GATED_LOADS} values (?, ?, ?, ?, ?, ?)",
                [scope.feed, *mark, shop_now()],
            )
        conn.execute("commit")
    finally:
        conn.close()
    return True
