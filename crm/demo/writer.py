"""Writing landing files: file layout (month files, daily tail files), CSV flavours, Parquet.

Layout: ``<out>/<feed>/<feed>_<YYYY-MM>[_partNNN].<ext>`` for event feeds (by the month of the
row's event time), ``<feed>[_partNNN].<ext>`` for the full extracts (members, suppressions),
and ``<feed>_<YYYY-MM-DD>[_partNNN].<ext>`` for each of the last ``daily_tail_days`` days.
A day file holds the rows created that day plus new versions (greater ``updated_at``) of
older rows that changed that day, so landing the day files one by one replays the shop's
history; the files before the tail know nothing that happened in it.

CSV flavours (deterministic): UTF-8 without BOM by default, members in CP932, returns in
UTF-8 with BOM, page_views gzip-compressed; a small share of order rows use the Japanese
forms the contract accepts (``2025/4/1 9:05:00``, ``¥1,234`` / ``1,234``, ``1/0`` / ``Y/N``).
Parquet files are plain typed columns (timestamp[us] without zone, int64 yen, bool).
"""

from __future__ import annotations

import gzip
import io
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from crm.contract import FEEDS
from crm.demo.columns import join
from crm.demo.shop_calendar import SECONDS_PER_DAY, ShopCalendar

FileFormat = Literal["csv", "parquet"]
JP_FORM_COLUMN = "_jp_form"


@dataclass(frozen=True)
class CsvFlavour:
    encoding: Literal["utf-8", "utf-8-sig", "cp932"] = "utf-8"
    gzip: bool = False


CSV_FLAVOURS: dict[str, CsvFlavour] = {
    "members": CsvFlavour("cp932"),
    "returns": CsvFlavour("utf-8-sig"),
    "page_views": CsvFlavour(gzip=True),
}
#: zlib level for .csv.gz (1 = fast; the files are big).
GZIP_LEVEL = 1


@dataclass(frozen=True)
class FeedRows:
    """The rows of one feed in a chunk, and the times that place and version them."""

    #: Event time of each row: it picks the month (or tail day) file.
    created: np.ndarray
    #: Later times at which a row changes (a new version lands that day).
    changes: tuple[np.ndarray, ...]
    #: Renders rows (indexes) as they stood at a cutoff (seconds).
    build: Callable[[np.ndarray, int], pa.Table]
    #: One file for everything before the tail (members, suppressions) instead of months.
    full_extract: bool = False


def batches(rows: FeedRows, cal: ShopCalendar, tail_days: int) -> Iterator[tuple[str, pa.Table]]:
    """(file label, table) for every file of a feed: "" (full extract), "YYYY-MM", "YYYY-MM-DD"."""
    tail_start = cal.end_s + 1 - tail_days * SECONDS_PER_DAY
    main_cut = tail_start - 1
    main = np.flatnonzero(rows.created <= main_cut)
    if rows.full_extract:
        if len(main):
            yield "", rows.build(main, main_cut)
    elif len(main):
        month = cal.month_label(rows.created[main])  # int16: stable argsort is a radix sort
        if np.any(month[1:] < month[:-1]):
            order = np.argsort(month, kind="stable")
            main, month = main[order], month[order]
        starts = np.flatnonzero(np.diff(month, prepend=-1))
        ends = np.append(starts[1:], len(main))
        for a, b in zip(starts, ends, strict=True):
            yield str(np.datetime64(int(month[a]), "M")), rows.build(main[a:b], main_cut)
    for k in range(tail_days):
        lo = tail_start + k * SECONDS_PER_DAY
        hi = lo + SECONDS_PER_DAY - 1
        new = (rows.created >= lo) & (rows.created <= hi)
        changed = np.zeros(len(new), dtype=bool)
        for t in rows.changes:
            changed |= (t >= lo) & (t <= hi)
        idx = np.flatnonzero(new | (changed & (rows.created < lo)))
        if len(idx):
            yield str(np.datetime64(lo, "s").astype("datetime64[D]")), rows.build(idx, hi)


def _with_commas(values: pa.Array) -> pa.Array:
    v = values.to_numpy(zero_copy_only=False).astype(np.int64)

    def text(x: np.ndarray, width: int = 0) -> pa.Array:
        s = pc.cast(pa.array(x), pa.string())
        return pc.utf8_lpad(s, width=width, padding="0") if width else s

    millions = join(text(v // 1_000_000), ",", text(v // 1000 % 1000, 3), ",", text(v % 1000, 3))
    thousands = join(text(v // 1000), ",", text(v % 1000, 3))
    return pc.case_when(
        pc.make_struct(pa.array(v >= 1_000_000), pa.array(v >= 1000)), millions, thousands, text(v)
    )


def japanese_forms(table: pa.Table) -> pa.Table:
    """Render the rows flagged in ``_jp_form`` with the Japanese forms the contract accepts."""
    form = table[JP_FORM_COLUMN].to_numpy()
    table = table.drop_columns([JP_FORM_COLUMN])
    if not (form > 0).any():
        return table
    jp = pa.array(form > 0)
    ts = table["ordered_at"].combine_chunks()

    def num(x: pa.Array, width: int = 0) -> pa.Array:
        s = pc.cast(x, pa.string())
        return pc.utf8_lpad(s, width=width, padding="0") if width else s

    jp_ts = join(
        num(pc.year(ts)),
        "/",
        num(pc.month(ts)),
        "/",
        num(pc.day(ts)),
        " ",
        num(pc.hour(ts)),
        ":",
        num(pc.minute(ts), 2),
        ":",
        num(pc.second(ts), 2),
    )
    ordered = pc.if_else(jp, jp_ts, pc.strftime(ts, format="%Y-%m-%d %H:%M:%S"))
    total = table["total_amount"].combine_chunks()
    commas = _with_commas(total)
    jp_total = pc.if_else(pa.array(form % 2 == 0), join("¥", commas), commas)
    total_text = pc.if_else(jp, jp_total, pc.cast(total, pa.string()))
    sub = table["is_subscription"].combine_chunks()
    as_digit = pc.if_else(sub, "1", "0")
    as_yn = pc.if_else(sub, "Y", "N")
    jp_sub = pc.if_else(pa.array(form <= 2), as_digit, as_yn)
    sub_text = pc.if_else(jp, jp_sub, pc.if_else(sub, "true", "false"))
    for name, col in (
        ("ordered_at", ordered),
        ("total_amount", total_text),
        ("is_subscription", sub_text),
    ):
        table = table.set_column(table.schema.get_field_index(name), name, col)
    return table


def _parquet_table(table: pa.Table) -> pa.Table:
    fields = []
    columns = []
    for field, col in zip(table.schema, table.columns, strict=True):
        if pa.types.is_timestamp(field.type):
            col = col.cast(pa.timestamp("us"))
            field = pa.field(field.name, pa.timestamp("us"))
        fields.append(field)
        columns.append(col)
    return pa.Table.from_arrays(columns, schema=pa.schema(fields))


def write_parquet(table: pa.Table, path: Path) -> None:
    """Plain typed Parquet; dictionary pages for the low-cardinality text columns (already
    dictionary-encoded in memory) and statistics for the non-text columns (dates, numbers)."""
    table = _parquet_table(table)
    dict_cols = [f.name for f in table.schema if pa.types.is_dictionary(f.type)]
    stat_cols = [
        f.name
        for f in table.schema
        if not (pa.types.is_dictionary(f.type) or pa.types.is_string(f.type))
    ]
    pq.write_table(
        table, path, store_schema=False, use_dictionary=dict_cols, write_statistics=stat_cols
    )


class LandingWriter:
    """Writes the files of one chunk; file names carry ``part`` when the shop is chunked.

    Tables are rendered in the caller's thread and encoded/written by ``threads`` background
    threads (Arrow and zlib release the GIL), so writing overlaps with generating. Use it as
    a context manager: leaving it waits for the last files (and raises their errors).
    """

    #: Files rendered but not yet written, per thread, before ``write`` waits (bounds memory).
    MAX_PENDING_PER_THREAD = 3

    def __init__(
        self,
        out_dir: Path,
        file_format: FileFormat,
        part: str,
        cal: ShopCalendar,
        tail_days: int,
        threads: int = 1,
    ) -> None:
        self.out_dir = out_dir
        self.file_format = file_format
        self.part = part
        self.cal = cal
        self.tail_days = tail_days
        self.files: list[Path] = []
        self.rows: dict[str, int] = {}
        self._pool = ThreadPoolExecutor(max_workers=threads) if threads > 0 else None
        self._max_pending = max(threads, 1) * self.MAX_PENDING_PER_THREAD
        self._pending: deque[Future[None]] = deque()

    def __enter__(self) -> LandingWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        try:
            while self._pending:
                self._pending.popleft().result()
        finally:
            if self._pool is not None:
                self._pool.shutdown(wait=True, cancel_futures=True)

    def path(self, feed: str, label: str) -> Path:
        flavour = CSV_FLAVOURS.get(feed, CsvFlavour())
        ext = ".csv.gz" if flavour.gzip else ".csv"
        if self.file_format == "parquet":
            ext = ".parquet"
        name = f"{feed}_{label}" if label else feed
        return self.out_dir / feed / f"{name}{self.part}{ext}"

    def write_feed(self, feed: str, rows: FeedRows) -> None:
        """Write a feed's month (or full-extract) files and its daily tail files."""
        for label, table in batches(rows, self.cal, self.tail_days):
            self.write(feed, label, table)

    def write(self, feed: str, label: str, table: pa.Table) -> Path:
        path = self.path(feed, label)
        path.parent.mkdir(parents=True, exist_ok=True)
        if JP_FORM_COLUMN in table.column_names:
            if self.file_format == "csv":
                table = japanese_forms(table)
            else:
                table = table.drop_columns([JP_FORM_COLUMN])
        table = table.select(list(FEEDS[feed].column_names))  # contract order, all columns
        self.files.append(path)
        self.rows[feed] = self.rows.get(feed, 0) + table.num_rows
        if self._pool is None:
            self._write_file(feed, table, path)
            return path
        while len(self._pending) >= self._max_pending:
            self._pending.popleft().result()
        self._pending.append(self._pool.submit(self._write_file, feed, table, path))
        return path

    def _write_file(self, feed: str, table: pa.Table, path: Path) -> None:
        if self.file_format == "parquet":
            write_parquet(table, path)
        else:
            path.write_bytes(csv_bytes(table, CSV_FLAVOURS.get(feed, CsvFlavour())))


def csv_bytes(table: pa.Table, flavour: CsvFlavour) -> bytes:
    buf = io.BytesIO()
    pacsv.write_csv(table, buf, pacsv.WriteOptions(include_header=True))
    data = buf.getvalue()
    if flavour.encoding != "utf-8":
        data = data.decode("utf-8").encode(flavour.encoding)
    if flavour.gzip:
        data = gzip.compress(data, compresslevel=GZIP_LEVEL, mtime=0)
    return data
