"""Read one landing file into batches of text columns, with the line number of every row.

CSV/TSV files (optionally gzip-compressed) are decoded line by line: UTF-8 (with or without BOM)
or CP932/Shift_JIS, detected per file from its first megabyte, with a per-line fallback to the
other encoding so that a file mixing the two loses nothing. Parquet files are read with their
row number as line number. Every value arrives as text; typing happens in SQL afterwards so that
CSV and Parquet obey the same rules.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

BATCH_ROWS = 100_000
SNIFF_BYTES = 1 << 20
LINE_COLUMN = "_source_line"
PROBLEM_COLUMN = "_read_problem"

csv.field_size_limit(1 << 24)


class FileRefused(Exception):
    """The whole file cannot be read; the message says why in words a shop can act on."""


@dataclass
class ReadResult:
    """What reading a file found out, besides its rows."""

    encoding: str = ""
    header: list[str] = field(default_factory=list)


def is_gzip(path: Path) -> bool:
    return path.name.lower().endswith(".gz")


def is_parquet(path: Path) -> bool:
    return path.name.lower().endswith(".parquet")


def delimiter_for(path: Path) -> str:
    name = path.name.lower().removesuffix(".gz")
    return "\t" if name.endswith(".tsv") else ","


def _open_binary(path: Path) -> io.BufferedIOBase:
    if is_gzip(path):
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return path.open("rb")


def detect_encoding(head: bytes) -> str:
    """``utf-8-sig`` (BOM), ``utf-8`` or ``cp932``, judged from the first bytes of a file."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(head, final=False)  # a character cut at the end is fine
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        codecs.getincrementaldecoder("cp932")().decode(head, final=False)
        return "cp932"
    except UnicodeDecodeError:
        return "utf-8"  # neither fits the head: decode line by line and report the bad lines


def _decoded_lines(raw: io.BufferedIOBase, encoding: str, bad_lines: set[int]) -> Iterator[str]:
    """Yield text lines; a line that decodes in neither encoding is flagged and replaced."""
    fallback = "cp932" if encoding.startswith("utf-8") else "utf-8"
    for number, line in enumerate(raw, start=1):
        if number == 1 and line.startswith(codecs.BOM_UTF8):
            line = line[len(codecs.BOM_UTF8) :]
        if b"\x00" in line:
            bad_lines.add(number)
            line = line.replace(b"\x00", b"")
        try:
            yield line.decode("utf-8" if encoding == "utf-8-sig" else encoding)
        except UnicodeDecodeError:
            try:
                yield line.decode(fallback)
            except UnicodeDecodeError:
                bad_lines.add(number)
                yield line.decode("utf-8", errors="replace")


def read_csv_batches(path: Path, info: ReadResult) -> Iterator[pa.Table]:
    """Yield tables of text columns: the header's columns, ``_source_line``, ``_read_problem``."""
    try:
        with _open_binary(path) as probe:
            head = probe.read(SNIFF_BYTES)
    except (OSError, EOFError, zlib.error) as exc:
        raise FileRefused(f"cannot read the file: {exc}") from exc
    if not head.strip():
        raise FileRefused("the file is empty (no header row)")
    info.encoding = detect_encoding(head)
    bad_lines: set[int] = set()
    try:
        with _open_binary(path) as raw:
            reader = csv.reader(
                _decoded_lines(raw, info.encoding, bad_lines), delimiter=delimiter_for(path)
            )
            header = next(reader, None)
            if not header or not any(h.strip() for h in header):
                raise FileRefused("the file is empty (no header row)")
            info.header = [h.strip().lower() for h in header]
            _check_header(info.header)
            yield from _batches(reader, info.header, bad_lines)
    except (OSError, EOFError, zlib.error) as exc:
        raise FileRefused(f"the file is damaged and cannot be read to its end: {exc}") from exc
    except csv.Error as exc:
        raise FileRefused(f"the file is not valid CSV: {exc}") from exc


def _check_header(header: list[str]) -> None:
    seen: set[str] = set()
    for position, name in enumerate(header, start=1):
        if not name:
            raise FileRefused(f"header column {position} has no name")
        if name in seen:
            raise FileRefused(f"header names column {name!r} twice")
        seen.add(name)


def _batches(
    reader: Iterator[list[str]], header: list[str], bad_lines: set[int]
) -> Iterator[pa.Table]:
    width = len(header)
    columns: list[list[str | None]] = [[] for _ in range(width)]
    lines: list[int] = []
    problems: list[str | None] = []
    start = 2  # first data line: the header is line 1
    for row in reader:
        end = reader.line_num  # type: ignore[attr-defined]
        if not row or (len(row) == 1 and not row[0].strip()):
            start = end + 1
            continue  # blank line
        problem = None
        if any(n in bad_lines for n in range(start, end + 1)):
            problem = "bytes that are neither UTF-8 nor CP932 (or NUL bytes) in the line"
        elif len(row) != width:
            problem = f"expected {width} fields as in the header, found {len(row)}"
        values = row if len(row) == width else (row + [""] * width)[:width]
        for column, value in zip(columns, values, strict=True):
            column.append(value)
        lines.append(start)
        problems.append(problem)
        start = end + 1
        if len(lines) >= BATCH_ROWS:
            yield _table(header, columns, lines, problems)
            columns = [[] for _ in range(width)]
            lines, problems = [], []
    if lines or not columns[0]:
        yield _table(header, columns, lines, problems)


def _table(
    header: list[str],
    columns: list[list[str | None]],
    lines: list[int],
    problems: list[str | None],
) -> pa.Table:
    arrays = [pa.array(c, type=pa.string()) for c in columns]
    arrays.append(pa.array(lines, type=pa.int64()))
    arrays.append(pa.array(problems, type=pa.string()))
    return pa.Table.from_arrays(arrays, names=[*header, LINE_COLUMN, PROBLEM_COLUMN])


def read_parquet_batches(path: Path, info: ReadResult) -> Iterator[pa.Table]:
    """Yield tables of text columns from a Parquet file; line = 1-based row number."""
    try:
        parquet = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several types for a damaged file
        raise FileRefused(f"not a readable Parquet file: {exc}") from exc
    info.encoding = "parquet"
    info.header = [name.strip().lower() for name in parquet.schema_arrow.names]
    _check_header(info.header)
    offset = 0
    try:
        for batch in parquet.iter_batches(batch_size=BATCH_ROWS):
            arrays = [_as_text(column) for column in batch.columns]
            n = batch.num_rows
            arrays.append(pa.array(range(offset + 1, offset + n + 1), type=pa.int64()))
            arrays.append(pa.nulls(n, type=pa.string()))
            offset += n
            yield pa.Table.from_arrays(arrays, names=[*info.header, LINE_COLUMN, PROBLEM_COLUMN])
    except Exception as exc:
        raise FileRefused(f"the Parquet file is damaged: {exc}") from exc


def _as_text(column: pa.Array) -> pa.Array:
    """Any Parquet type as text: typed and untyped files then obey the same parsing rules."""
    return column.cast(pa.string())


def read_batches(path: Path, info: ReadResult) -> Iterator[pa.Table]:
    if is_parquet(path):
        return read_parquet_batches(path, info)
    return read_csv_batches(path, info)
