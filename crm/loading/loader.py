"""Load a feed's landing files into the warehouse's ``raw`` schema.

For every file of a feed folder (``.csv``, ``.csv.gz``, ``.tsv``, ``.tsv.gz``, ``.parquet``):

0. A symbolic link is refused unread (never followed); a file that is not complete yet (see
   ``landing_area``: changed within the quiet period, or without its ``.done`` marker in a
   folder that uses markers) is reported as ``waiting`` and left for a later run (no ledger
   entry).
1. The file's SHA-256 is looked up in the ledger: a file already seen (loaded or refused) is
   skipped, so re-landing a file changes nothing.
2. A Parquet file whose columns all have plain types (strings, integers, decimals, booleans,
   dates, timestamps) and whose header is usable is loaded natively (``parquet_fast``): DuckDB
   reads, types and checks it set-based, typed values are used as they are. Every other file
   (CSV/TSV, other Parquet files, a Parquet file DuckDB cannot read to its end) takes the
   row-parse path, steps 3 to 5; ``FileLoadReport.method`` says which path a file took.
3. Its rows are read as text with their line numbers (see ``reading``).
4. A file that cannot be read, or lacks a required column, is refused: its rows (if any could be
   read) go to the rejects table with the reason, and the ledger records the refusal.
5. Otherwise each cell is parsed by the contract's rules (see ``parsing``), once, in the same
   statement that writes the good rows to the load's Parquet file; when the count written falls
   short of the file's rows, the bad rows are typed again, for the rejects table only.

Either way each row is checked by the same rules (see ``checks``): a row with a problem goes to
``raw._rejects`` (file, line, first bad column, every reason, the row as JSON), the others are
written, with load metadata, to the load's Parquet file read by the view ``raw.<feed>`` (see
``raw_layer``). Loaded + rejected = rows in the file; both paths
load the same rows and reject the same rows for the same reasons. A file with more than the
critical share of its rows rejected (``reject_share``) is refused as a whole on either path.

Messages (ledger, reports) never quote a data value: a header is named only when it looks like
one (``reading.describe_header``). Load times are Asia/Tokyo shop time (``shop_now``).

Each file is loaded in one transaction together with its ledger entry (its Parquet file is made
final and put in force inside it): a crash leaves no half file behind.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

from crm.contract import ACCEPTED_SUFFIXES, FEEDS, Feed
from crm.loading.checks import RowChecks, computed_once, json_object, row_checks, text_cell
from crm.loading.csv_stage import drop_stage, stage_csv
from crm.loading.landing_area import SYMLINK_MESSAGE, FeedFolder, feed_folder, quiet_seconds
from crm.loading.parquet_fast import (
    NATIVE_READ_ERRORS,
    NativePlan,
    duckdb_reads_as_planned,
    load_native,
    native_plan,
    reject_all_native,
)
from crm.loading.parsing import quote_identifier, quote_literal
from crm.loading.raw_layer import (
    discard_partial,
    make_final,
    refresh_view,
    remove_orphans,
    write_partial,
)
from crm.loading.reading import (
    LINE_COLUMN,
    PROBLEM_COLUMN,
    FileRefused,
    ReadResult,
    describe_header,
    is_parquet,
    read_parquet_batches,
)
from crm.loading.reject_share import RejectShares
from crm.loading.tables import LEDGER_TABLE, REJECTS_TABLE, ensure_raw_schema
from crm.settings import shop_now

STAGE = "_landing_stage"
LINE = quote_identifier(LINE_COLUMN)
PROBLEM = quote_identifier(PROBLEM_COLUMN)
#: ``FileLoadReport.method``: typed in DuckDB straight from Parquet, or read as text and parsed.
NATIVE = "parquet_native"
ROW_PARSE = "row_parse"


class LandingError(RuntimeError):
    """The landing area itself is unusable (e.g. the required orders feed is missing)."""


@dataclass(frozen=True)
class FileLoadReport:
    feed: str
    source_file: str
    status: str  # loaded | refused | already_loaded | waiting (not complete yet: not loaded)
    rows_in_file: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    encoding: str = ""
    message: str = ""
    #: How the rows were read: ``NATIVE`` or ``ROW_PARSE`` ("" when the file was skipped).
    method: str = ""


@dataclass
class FeedLoadReport:
    feed: str
    folder: str
    present: bool
    files: list[FileLoadReport] = field(default_factory=list)
    ignored_files: list[str] = field(default_factory=list)

    def total(self, attribute: str) -> int:
        return sum(getattr(f, attribute) for f in self.files)

    @property
    def rows_loaded(self) -> int:
        return self.total("rows_loaded")

    @property
    def rows_rejected(self) -> int:
        return self.total("rows_rejected")

    def count(self, status: str) -> int:
        return sum(1 for f in self.files if f.status == status)


def landing_files(folder: Path) -> tuple[list[Path], list[Path]]:
    """The accepted files under a feed folder (sorted by path) and the ignored ones (symbolic
    links are neither: see ``landing_area.feed_folder``)."""
    listing = feed_folder(folder)
    return listing.accepted, listing.ignored


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def load_feed(
    conn: duckdb.DuckDBPyConnection,
    landing_dir: Path,
    feed_name: str,
    shares: RejectShares | None = None,
) -> FeedLoadReport:
    """Load the complete, not yet seen files of a feed folder. ``shares``: the reject-share
    thresholds (default: the dbt vars of ``dbt_project.yml``)."""
    feed = FEEDS[feed_name]
    shares = shares or RejectShares.from_dbt_project()
    ensure_raw_schema(conn)
    remove_orphans(conn, feed)
    folder = landing_dir / feed.name
    linked = folder.is_symlink()
    report = FeedLoadReport(feed=feed.name, folder=str(folder), present=linked or folder.is_dir())
    if not report.present:
        if feed.required:
            raise LandingError(
                f"the required feed {feed.name!r} is missing: no folder {folder} "
                f"(CRM_LANDING_DIR={landing_dir})"
            )
        return report
    listing = feed_folder(folder)
    report.ignored_files = [str(p.relative_to(landing_dir)) for p in listing.ignored]
    for link in listing.links:
        report.files.append(refuse_link(conn, landing_dir, feed, link))
    if feed.required and not listing.accepted:
        raise LandingError(
            f"the required feed {feed.name!r} has no files in {folder} "
            f"(accepted: {', '.join(ACCEPTED_SUFFIXES)})"
            + (f"; the folder is {SYMLINK_MESSAGE}" if linked else "")
        )
    quiet = quiet_seconds()
    for path in listing.accepted:
        report.files.append(load_file(conn, landing_dir, feed, path, shares, listing, quiet))
    return report


def link_checksum(source: str, path: Path) -> str:
    """The ledger checksum of a symbolic link: its own path and text, never its target's bytes."""
    return hashlib.sha256(f"symlink:{source}\0{os.readlink(path)}".encode()).hexdigest()


def refuse_link(
    conn: duckdb.DuckDBPyConnection, landing_dir: Path, feed: Feed, path: Path
) -> FileLoadReport:
    """Refuse a symbolic link unread: one ledger entry (no rows), recorded once."""
    source = path.relative_to(landing_dir).as_posix()
    checksum = link_checksum(source, path)
    seen = _seen(conn, feed, checksum)
    if seen:
        return FileLoadReport(feed.name, source, "already_loaded", message=f"same link as {seen}")

    def write(load_id: int, now: datetime) -> _Outcome:
        _reject_whole_file(conn, feed, source, load_id, now, SYMLINK_MESSAGE, 0)
        return _Outcome("refused", 0, 0, 0, SYMLINK_MESSAGE)

    return _record_in_ledger(conn, feed, path, source, checksum, "", "", write)


def _seen(conn: duckdb.DuckDBPyConnection, feed: Feed, checksum: str) -> str | None:
    seen = conn.execute(
        f"select source_file from {LEDGER_TABLE} where feed = ? and file_sha256 = ?",
        [feed.name, checksum],
    ).fetchone()
    return str(seen[0]) if seen else None


def load_file(
    conn: duckdb.DuckDBPyConnection,
    landing_dir: Path,
    feed: Feed,
    path: Path,
    shares: RejectShares | None = None,
    listing: FeedFolder | None = None,
    quiet: int | None = None,
) -> FileLoadReport:
    """Load one regular file of a feed folder (``listing``: the folder, for its markers)."""
    source = path.relative_to(landing_dir).as_posix()
    shares = shares or RejectShares.from_dbt_project()
    listing = listing or feed_folder(landing_dir / feed.name)
    waiting = listing.waiting_reason(path, quiet_seconds() if quiet is None else quiet)
    if waiting:
        return FileLoadReport(feed.name, source, "waiting", message=waiting)
    checksum = sha256_of(path)
    seen = _seen(conn, feed, checksum)
    if seen:
        return FileLoadReport(
            feed.name, source, "already_loaded", message=f"same content as {seen}"
        )
    plan = native_plan(path, feed) if is_parquet(path) else None
    if plan is not None and duckdb_reads_as_planned(conn, plan):
        try:
            return _load_natively(conn, feed, path, source, checksum, plan, shares)
        except NATIVE_READ_ERRORS:
            pass  # damaged past its footer: the row-parse path keeps what it can read, refuses it
    return _load_by_row_parse(conn, feed, path, source, checksum, shares)


@dataclass(frozen=True)
class _Outcome:
    status: str
    rows_in_file: int
    loaded: int
    rejected: int
    message: str = ""


def _record_in_ledger(
    conn: duckdb.DuckDBPyConnection,
    feed: Feed,
    path: Path,
    source: str,
    checksum: str,
    encoding: str,
    method: str,
    write: Callable[[int, datetime], _Outcome],
) -> FileLoadReport:
    """Run ``write(load_id, now)`` and record its outcome in the ledger, in one transaction."""
    now = shop_now()  # Tokyo time, as the business times it is compared with
    conn.execute("begin transaction")
    try:
        load_id = conn.execute(
            f"select coalesce(max(load_id), 0) + 1 from {LEDGER_TABLE}"
        ).fetchone()[0]  # type: ignore[index]
        outcome = write(load_id, now)
        if outcome.status == "loaded":
            raw_file = make_final(conn, feed, load_id)
        else:
            raw_file = None
            discard_partial(conn, feed, load_id)
        conn.execute(
            f"insert into {LEDGER_TABLE} values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                load_id,
                feed.name,
                source,
                checksum,
                path.lstat().st_size if path.is_symlink() else path.stat().st_size,
                encoding,
                outcome.rows_in_file,
                outcome.loaded,
                outcome.rejected,
                outcome.status,
                outcome.message or None,
                now,
                raw_file,
            ],
        )
        if raw_file:
            refresh_view(conn, feed)
        conn.execute("commit")
    except BaseException:
        conn.execute("rollback")
        raise
    return FileLoadReport(
        feed.name,
        source,
        outcome.status,
        outcome.rows_in_file,
        outcome.loaded,
        outcome.rejected,
        encoding,
        outcome.message,
        method,
    )


def _load_natively(
    conn: duckdb.DuckDBPyConnection,
    feed: Feed,
    path: Path,
    source: str,
    checksum: str,
    plan: NativePlan,
    shares: RejectShares,
) -> FileLoadReport:
    def write(load_id: int, now: datetime) -> _Outcome:
        loaded, rejected = load_native(conn, plan, feed, source, load_id, now)
        if shares.above_critical(rejected, plan.num_rows):
            refusal = shares.refusal(rejected, plan.num_rows)
            reject_all_native(conn, plan, feed, source, load_id, now, f"file refused: {refusal}")
            return _Outcome("refused", plan.num_rows, 0, plan.num_rows, refusal)
        return _Outcome("loaded", plan.num_rows, loaded, rejected)

    return _record_in_ledger(conn, feed, path, source, checksum, "parquet", NATIVE, write)


def _load_by_row_parse(
    conn: duckdb.DuckDBPyConnection,
    feed: Feed,
    path: Path,
    source: str,
    checksum: str,
    shares: RejectShares,
) -> FileLoadReport:
    info = ReadResult()
    refusal = ""
    try:
        try:
            _stage_file(conn, path, info)
        except FileRefused as exc:
            refusal = str(exc)
        rows_in_file = _count(conn, STAGE) if _exists(conn, STAGE) else 0
        refusal = refusal or info.refusal
        if not refusal:
            missing = [c for c in feed.required_columns if c not in info.header]
            if missing:
                refusal = (
                    f"missing required column(s) {', '.join(missing)}; "
                    f"{describe_header(info.header)}"
                )

        def write(load_id: int, now: datetime) -> _Outcome:
            if refusal:
                rejected = _reject_whole_file(
                    conn, feed, source, load_id, now, refusal, rows_in_file
                )
                return _Outcome("refused", rows_in_file, 0, rejected, refusal)
            typed = _typed_rows(feed, info.header)
            # one pass writes the good rows; the bad ones are typed again only if there are any
            loaded = write_partial(conn, feed, load_id, source, now, typed.good)
            rejected = rows_in_file - loaded
            if shares.above_critical(rejected, rows_in_file):
                discard_partial(conn, feed, load_id)
                share_refusal = shares.refusal(rejected, rows_in_file)
                _insert_rejects(conn, feed, source, load_id, now, typed, share_refusal)
                return _Outcome("refused", rows_in_file, 0, rows_in_file, share_refusal)
            if rejected:
                _insert_rejects(conn, feed, source, load_id, now, typed)
            return _Outcome("loaded", rows_in_file, loaded, rejected)

        return _record_in_ledger(
            conn, feed, path, source, checksum, info.encoding, ROW_PARSE, write
        )
    finally:
        drop_stage(conn, STAGE)
        conn.execute(f"drop table if exists {STAGE}")


def _exists(conn: duckdb.DuckDBPyConnection, table: str) -> bool:
    found = conn.execute(
        "select count(*) from (select table_name as name from duckdb_tables() where temporary "
        "union all select view_name from duckdb_views() where temporary) where name = ?",
        [table],
    ).fetchone()
    return bool(found and found[0])


def _count(conn: duckdb.DuckDBPyConnection, table: str) -> int:
    return int(conn.execute(f"select count(*) from {table}").fetchone()[0])  # type: ignore[index]


def _stage_file(conn: duckdb.DuckDBPyConnection, path: Path, info: ReadResult) -> None:
    """Read the file into a temporary table of text columns with line numbers and reading
    problems: CSV/TSV by DuckDB (``csv_stage``), a Parquet file the native path cannot take by
    pyarrow's casts (rows read before a damage stay)."""
    drop_stage(conn, STAGE)
    conn.execute(f"drop table if exists {STAGE}")
    if not is_parquet(path):
        stage_csv(conn, path, info, STAGE)
        return
    for batch in read_parquet_batches(path, info):
        conn.register("_landing_batch", batch)
        try:
            if _exists(conn, STAGE):
                conn.execute(f"insert into {STAGE} select * from _landing_batch")
            else:
                conn.execute(f"create temp table {STAGE} as select * from _landing_batch")
        finally:
            conn.unregister("_landing_batch")


def _record_json(header: list[str], prefix: str = "") -> str:
    """The row as delivered, as a JSON object (kept with every reject)."""
    return json_object([(name, f"{prefix}{quote_identifier(name)}") for name in header])


def _reject_whole_file(
    conn: duckdb.DuckDBPyConnection,
    feed: Feed,
    source: str,
    load_id: int,
    now: datetime,
    reason: str,
    rows_in_file: int,
) -> int:
    message = f"file refused: {reason}"
    if rows_in_file:
        columns = conn.execute(f"select * from {STAGE} limit 0").description
        header = [c[0] for c in columns if c[0] not in (LINE_COLUMN, PROBLEM_COLUMN)]
        conn.execute(
            f"insert into {REJECTS_TABLE} select ?, ?, ?, {LINE}, null, ?, "
            f"{_record_json(header)}, ? from {STAGE}",
            [load_id, feed.name, source, message, now],
        )
    else:
        conn.execute(
            f"insert into {REJECTS_TABLE} values (?, ?, ?, null, null, ?, null, ?)",
            [load_id, feed.name, source, message, now],
        )
    return rows_in_file


@dataclass(frozen=True)
class TypedRows:
    """SQL over the staged rows: each cell parsed once (``checks.computed_once``)."""

    #: The staged rows with their parsed cells (a subquery).
    source: str
    checks: RowChecks
    header: list[str]
    feed_columns: frozenset[str]

    @property
    def good(self) -> str:
        """The rows without a problem: contract columns, ``_source_line``, ``_extra_columns``."""
        extras = [name for name in self.header if name not in self.feed_columns]
        return (
            f"select {', '.join(self.checks.typed_columns)}, {LINE} as _source_line, "
            f"{_record_json(extras)} as _extra_columns from {self.source} where {self.checks.ok}"
        )


def _typed_rows(feed: Feed, header: list[str]) -> TypedRows:
    """The staged rows typed and checked by the contract (nothing is computed yet)."""
    cells = {
        c.name: text_cell(c.type, quote_identifier(c.name))
        for c in feed.columns
        if c.name in header
    }
    inner, cells = computed_once(cells)
    return TypedRows(
        source=f"(select *, {', '.join(inner or ['null as _none'])} from {STAGE})",
        checks=row_checks(feed, cells, read_problem=PROBLEM),
        header=header,
        feed_columns=frozenset(feed.column_names),
    )


def _insert_rejects(
    conn: duckdb.DuckDBPyConnection,
    feed: Feed,
    source: str,
    load_id: int,
    now: datetime,
    typed: TypedRows,
    refusal: str | None = None,
) -> None:
    """The bad rows (or, with ``refusal``, every row: ``file refused: <refusal>`` before a row's
    own reasons) to the rejects table, each with the record as delivered."""
    checks = typed.checks
    reasons = checks.reasons
    where = f"where not ({checks.ok})"
    if refusal is not None:
        reasons = f"{quote_literal('file refused: ' + refusal)} || coalesce('; ' || {reasons}, '')"
        where = ""
    conn.execute(
        f"""
        insert into {REJECTS_TABLE}
        select ?, ?, ?, {LINE}, {checks.first_column}, {reasons}, {_record_json(typed.header)}, ?
        from {typed.source}
        {where}
        """,
        [load_id, feed.name, source, now],
    )
