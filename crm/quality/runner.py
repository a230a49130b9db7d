"""Run a suite: read its frames through a read-only DuckDB connection, validate them with Great
Expectations (ephemeral context, pandas datasource, one dataframe batch per frame), keep the
result as JSON.

GE's SQL datasource returns empty results on DuckDB, hence the pandas frames.

Raw suites validate only the loads their gate has not passed yet. ``quality.gated_loads`` in the
build database holds one row per feed: the feed's latest load (id and file SHA-256) when its
suite last passed without a critical failure, the as-of date and suite digest of that run, and
when (``record_gated_load``, called by the Dagster check). The next run reads the suite's
``frames_since_mark`` with ``{gated_load_id}`` = that load (:func:`gate_scope`), so the pandas
frame holds only the keys touched by later loads. Every row is validated instead when
``CRM_QUALITY_FULL=1``, when the table or the feed's row is missing, when the suite's digest
changed, when tonight's as-of date is before the mark's, or when the marked load is no longer in
the ledger. A failed gate leaves the mark as it was; a re-run of the same night that changes
nothing leaves the row exactly as it was (``validated_at`` included).

Without a mark, ``in_force`` covers every key of the feed: hundreds of millions of rows for a
large shop, far more than one pandas frame in the memory the night may use. A frame the suite
names in ``chunked_frames`` is therefore read in ``n`` chunks, ``n = ceil(estimated rows /
CRM_QUALITY_CHUNK_ROWS)`` (default 2,000,000; the estimate is a cheap ``count(*)`` of the raw
table, or of its rows after the mark), chunk ``i`` being the keys whose hash is ``i`` modulo
``n`` (:func:`crm.quality.suites.raw.chunk_predicate`). Chunks are streamed: one is read,
validated and dropped before the next is read, so memory holds about one chunk. The selection
is made on the raw rows before the ranking, and every version of a key (and every row that
could duplicate it) lands in the same chunk, so each chunk's rows are exactly the frame's rows
of its keys, and the chunks together are the frame. Every expectation allowed on a chunked frame
judges rows one by one or within one key (``CHUNKABLE_TYPES`` in
:mod:`crm.quality.suites.spec`), so its counts over the chunks add up to its counts over the
whole frame: :func:`combine_results` sums them, recomputes the unexpected percent and the
``mostly`` share from the sums, and keeps the first sample values. The JSON result gives each
frame's total rows (``frame_rows``) and how many chunks it was read in (``frame_chunks``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import uuid
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from crm.file_modes import PRIVATE_DIR_MODE, PRIVATE_FILE_MODE, restrict
from crm.personal_data import mask_statistics
from crm.quality.suites.marts import SHARES_HISTORY
from crm.quality.suites.spec import CHUNKABLE_TYPES, Expectation, Suite
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
#: About how many rows of a chunked frame are read and validated at once.
CHUNK_ROWS_ENV = "CRM_QUALITY_CHUNK_ROWS"
DEFAULT_CHUNK_ROWS = 2_000_000


@dataclass(frozen=True)
class GateScope:
    """Which loads of a raw feed a run of its suite validates."""

    feed: str
    #: Keys touched by loads after this one are validated; 0 = every key.
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
    #: Frame name → its rows (over every chunk).
    frame_rows: dict[str, int]
    #: Frame name → how many chunks it was read and validated in (1: whole).
    frame_chunks: dict[str, int]
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
    text: str,
    conn: duckdb.DuckDBPyConnection,
    as_of: date,
    scope: GateScope | None = None,
    chunk: tuple[int, int] = (0, 1),
) -> str:
    """The frame's SQL for tonight: ``chunk`` is (index, count) of a chunked frame."""
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
        .replace("{chunk_index}", str(int(chunk[0])))
        .replace("{chunk_count}", str(int(chunk[1])))
    )


def full_validation_requested(env: dict[str, str] | None = None) -> bool:
    """``CRM_QUALITY_FULL=1`` (or true/yes): raw suites validate every row tonight."""
    value = (os.environ if env is None else env).get(FULL_ENV, "")
    return value.strip().lower() in ("1", "true", "yes")


def chunk_rows_setting(env: dict[str, str] | None = None) -> int:
    """``CRM_QUALITY_CHUNK_ROWS``: about how many rows of a chunked frame are validated at once."""
    value = (os.environ if env is None else env).get(CHUNK_ROWS_ENV, "").strip()
    if not value:
        return DEFAULT_CHUNK_ROWS
    try:
        rows = int(value.replace("_", "").replace(",", ""))
    except ValueError:
        rows = 0
    if rows < 1:
        raise ValueError(f"{CHUNK_ROWS_ENV} must be a positive number of rows, not {value!r}")
    return rows


def suite_digest(suite: Suite) -> str:
    """A fingerprint of what a suite checks (SQL, expectations, tolerances): a mark made by
    another version of the suite does not count."""
    content = {
        "frames": suite.frames,
        "frames_since_mark": suite.frames_since_mark,
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
    return int(load_id), f"keys touched by loads after {load_id}"


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


def _since_mark(scope: GateScope | None) -> bool:
    return scope is not None and not scope.full


def frame_sources(suite: Suite, scope: GateScope | None = None) -> dict[str, str]:
    """Frame name → SQL: the suite's frames; with a scope that has a mark, ``frames_since_mark``
    instead of those of the same name."""
    sources = dict(suite.frames)
    if _since_mark(scope):
        sources.update(suite.frames_since_mark)
    return sources


def read_frames(
    conn: duckdb.DuckDBPyConnection,
    suite: Suite,
    as_of: date,
    scope: GateScope | None = None,
) -> dict[str, pd.DataFrame]:
    """Every frame of the suite, each whole (one chunk; :func:`run_suite` streams chunks)."""
    sources = frame_sources(suite, scope)
    return {name: conn.execute(_sql(sql, conn, as_of, scope)).df() for name, sql in sources.items()}


def chunk_count(
    conn: duckdb.DuckDBPyConnection,
    suite: Suite,
    frame: str,
    as_of: date,
    scope: GateScope | None,
    chunk_rows: int,
) -> int:
    """How many chunks ``frame`` is read in: ``ceil(estimated rows / chunk_rows)``, at least 1;
    always 1 for a frame the suite does not mark as chunked."""
    chunking = suite.chunked_frames.get(frame)
    if chunking is None:
        return 1
    sql = chunking.rows_estimate_since_mark if _since_mark(scope) else chunking.rows_estimate
    row = conn.execute(_sql(sql, conn, as_of, scope)).fetchone()
    estimate = int(row[0]) if row and row[0] else 0
    return max(1, math.ceil(estimate / max(1, chunk_rows)))


def iter_chunks(
    conn: duckdb.DuckDBPyConnection,
    sql: str,
    as_of: date,
    scope: GateScope | None,
    chunks: int,
) -> Iterator[pd.DataFrame]:
    """The frame's chunks one after the other. While the caller validates chunk ``i`` (pandas,
    one core), DuckDB reads chunk ``i + 1`` on a cursor of its own in a background thread, so
    at most two chunks are held at a time."""
    cursor = conn.cursor()

    def read(index: int) -> pd.DataFrame:
        return cursor.execute(_sql(sql, cursor, as_of, scope, (index, chunks))).df()

    if chunks == 1:
        yield read(0)
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="quality-chunk") as reader:
        pending = reader.submit(read, 0)
        for index in range(chunks):
            frame = pending.result()
            if index + 1 < chunks:
                pending = reader.submit(read, index + 1)
            yield frame
            del frame


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
    itself and its cached metrics (a boolean series per map expectation, as long as the frame),
    so that only one chunk is held at a time."""
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


def _unexpected_percent(element: int, missing: int | None, unexpected: int | None) -> float | None:
    """GE's ``unexpected_percent`` of a map expectation: unexpected / non-missing x 100 (of every
    row when the expectation counts no missing values); None when no row counts."""
    if unexpected is None or element <= 0:
        return None
    if missing is None:
        return unexpected / element * 100
    considered = element - missing
    return unexpected / considered * 100 if considered > 0 else None


def _summed(parts: list[dict[str, Any]], key: str) -> int | None:
    values = [p[key] for p in parts if p.get(key) is not None]
    return sum(int(v) for v in values) if values else None


def combine_results(spec: Expectation, parts: list[ExpectationResult]) -> ExpectationResult:
    """One result of ``spec`` over a frame from its results over the frame's disjoint chunks.

    Counts are summed; ``unexpected_percent`` is recomputed from the sums as GE does; with
    ``mostly`` the success is that of the combined share of expected rows (GE: vacuously true
    when no row counts), otherwise every chunk must succeed; the sample values are those of the
    chunks in order, cut to ``PARTIAL_LIMIT``; a chunk's exception fails the result."""
    if not parts:
        raise ValueError(f"{spec.name}: no chunk results to combine")
    if len(parts) == 1:
        return parts[0]
    if spec.type not in CHUNKABLE_TYPES:
        raise ValueError(
            f"{spec.name}: {spec.type} results cannot be combined over chunks; supported: "
            + ", ".join(sorted(CHUNKABLE_TYPES))
        )
    stats = [p.statistics for p in parts]
    if any(s.get("observed_value") is not None for s in stats):
        raise ValueError(f"{spec.name}: an observed value cannot be combined over chunks")
    element = _summed(stats, "element_count") or 0
    missing = _summed(stats, "missing_count")
    unexpected = _summed(stats, "unexpected_count")
    combined: dict[str, Any] = {"element_count": element}
    if missing is not None:
        combined["missing_count"] = missing
    if unexpected is not None:
        combined["unexpected_count"] = unexpected
    if any("unexpected_percent" in s for s in stats):
        combined["unexpected_percent"] = _unexpected_percent(element, missing, unexpected)
    if any("partial_unexpected_list" in s for s in stats):
        sample = [v for s in stats for v in s.get("partial_unexpected_list") or []]
        combined["partial_unexpected_list"] = sample[:PARTIAL_LIMIT]
    exception = next((p.exception for p in parts if p.exception), None)
    if exception is not None:
        success = False
    elif "mostly" in spec.kwargs:
        considered = element - (missing or 0)
        success = considered <= 0 or (considered - (unexpected or 0)) / considered >= float(
            spec.kwargs["mostly"]
        )
    else:
        success = all(p.success for p in parts)
    return replace(parts[0], success=success, statistics=combined, exception=exception)


@dataclass
class FrameValidation:
    """A frame validated chunk by chunk: its results (combined), rows and chunks."""

    results: list[ExpectationResult]
    rows: int
    chunks: int


def validate_chunks(chunks: Iterable[pd.DataFrame], specs: list[Expectation]) -> FrameValidation:
    """Validate each chunk of a frame as it comes (none is kept), then combine the results."""
    per_chunk: list[list[ExpectationResult]] = []
    rows = read = 0
    for frame in chunks:
        rows += len(frame)
        read += 1
        if specs:
            per_chunk.append(validate_frame(frame, specs))
        del frame  # before the next chunk is read
    results = [
        combine_results(spec, [chunk[position] for chunk in per_chunk])
        for position, spec in enumerate(specs)
    ]
    return FrameValidation(results, rows, read)


def validate_suite(
    conn: duckdb.DuckDBPyConnection,
    suite: Suite,
    as_of: date,
    scope: GateScope | None,
    chunk_rows: int,
) -> tuple[list[ExpectationResult], dict[str, int], dict[str, int]]:
    """Read and validate every frame of the suite, chunked frames chunk by chunk; returns the
    results in the suite's order, and each frame's rows and chunks. A frame no expectation
    reads is only counted (in DuckDB: the rows of a feed's latest file can be many)."""
    by_frame = _by_frame(suite)
    done: dict[str, ExpectationResult] = {}
    rows: dict[str, int] = {}
    chunks: dict[str, int] = {}
    for name, sql in frame_sources(suite, scope).items():
        if name not in by_frame:
            found = conn.execute(f"select count(*) from (\n{_sql(sql, conn, as_of, scope)}\n)")
            rows[name], chunks[name] = int((found.fetchone() or (0,))[0]), 1
            continue
        count = chunk_count(conn, suite, name, as_of, scope, chunk_rows)
        validated = validate_chunks(iter_chunks(conn, sql, as_of, scope, count), by_frame[name])
        rows[name], chunks[name] = validated.rows, validated.chunks
        done.update((r.name, r) for r in validated.results)
    return [done[spec.name] for spec in suite.expectations], rows, chunks


def run_suite(
    build_path: Path,
    suite: Suite,
    as_of: date,
    run_id: str | None = None,
    full: bool | None = None,
    chunk_rows: int | None = None,
) -> SuiteResult:
    """Read the suite's frames from the warehouse (read-only) and validate them, a chunked frame
    chunk by chunk (about ``chunk_rows`` rows each, default ``CRM_QUALITY_CHUNK_ROWS``).

    Raw suites read only the keys touched since their gate's mark, unless ``full`` (default:
    ``CRM_QUALITY_FULL``) or there is no usable mark (see :func:`gate_scope`)."""
    if full is None:
        full = full_validation_requested()
    if chunk_rows is None:
        chunk_rows = chunk_rows_setting()
    conn = duckdb.connect(str(build_path), read_only=True, config=duckdb_config(build_path))
    try:
        scope = gate_scope(conn, suite, as_of, full)
        results, frame_rows, frame_chunks = validate_suite(conn, suite, as_of, scope, chunk_rows)
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
        frame_chunks=frame_chunks,
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
