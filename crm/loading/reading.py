"""Reading helpers shared by the load paths, and the Parquet text reader.

- The encoding of a text file (UTF-8 with or without BOM, or CP932/Shift_JIS) is judged from its
  first megabyte (``detect_encoding``) for the ledger; ``csv_stage`` decodes CSV/TSV files.
- Header names are stripped and lower-cased; a blank or repeated name makes the file refused
  (``usable_header``), and a header is quoted in a message only when it looks like column names
  (``describe_header``): a first row of data is never repeated in a message.
- ``read_parquet_batches`` reads a Parquet file that the native path (``parquet_fast``) cannot
  take (binary, nested or float columns, a damaged file) as text columns with the row number as
  line number: pyarrow's vectorised casts; binary values are decoded like CSV lines (UTF-8,
  else CP932) and nested values become JSON.

A file that cannot be used as a whole (damaged after some rows, UTF-16, an unreadable header) is
still read as far as possible and ``ReadResult.refusal`` says why: the loader keeps the rows read
in the rejects table, so that loaded + rejected = rows in the file holds for refused files too.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

BATCH_ROWS = 100_000
SNIFF_BYTES = 1 << 20
# Internal columns of a read batch. Header names are stripped of surrounding spaces, so the
# leading space keeps a file's own column (say ``_source_line``) from ever colliding with them.
LINE_COLUMN = " _source_line"
PROBLEM_COLUMN = " _read_problem"
TEXT_ENCODINGS = ("utf-8", "cp932")
BAD_BYTES = "bytes that are neither UTF-8 nor CP932 (or NUL bytes)"
CUT_SHORT = "the last line has no line end: the file may have been cut short while it was written"
#: A header name shown in a message (ledger, logs, alerts) must look like a column name: a first
#: row of data (an email, a name) is never repeated there.
HEADER_NAME = re.compile(r"[a-z_][a-z0-9_ ]{0,63}")
NOT_A_HEADER = "the first row does not look like a header (is the header row missing?)"

csv.field_size_limit(1 << 24)  # the header of a CSV file is read with csv


class FileRefused(Exception):
    """The whole file cannot be read; the message says why in words a shop can act on."""


@dataclass
class ReadResult:
    """What reading a file found out, besides its rows."""

    encoding: str = ""
    header: list[str] = field(default_factory=list)
    #: Why the whole file must be refused although (some of) its rows could be read; "" if not.
    refusal: str = ""
    #: The number of the file's last line when it has no line end (0: it has one, or the file
    #: has a single line): the record holding it is rejected.
    unterminated_line: int = 0


def header_looks_like_names(header: list[str]) -> bool:
    """True when every header name looks like a column name, so messages may show them."""
    return all(HEADER_NAME.fullmatch(name) and "@" not in name for name in header)


def describe_header(header: list[str]) -> str:
    """The header for a message: its names when they all look like column names, else only
    that the first row is not a header and how many columns it has (never a data value)."""
    if header_looks_like_names(header):
        return f"the header has {', '.join(header)}"
    return f"{NOT_A_HEADER}; {len(header)} columns"


def is_gzip(path: Path) -> bool:
    return path.name.lower().endswith(".gz")


def is_parquet(path: Path) -> bool:
    return path.name.lower().endswith(".parquet")


def delimiter_for(path: Path) -> str:
    name = path.name.lower().removesuffix(".gz")
    return "\t" if name.endswith(".tsv") else ","


def open_binary(path: Path) -> io.BufferedIOBase:
    if is_gzip(path):
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return path.open("rb")


def detect_encoding(head: bytes) -> str:
    """``utf-8-sig`` (BOM), ``utf-8`` or ``cp932``, judged from the first bytes of a file;
    ``utf-16`` for a UTF-16 byte-order mark (not an accepted encoding: the file is refused)."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
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


def read_head(path: Path) -> bytes:
    """Up to ``SNIFF_BYTES`` from the start of the (decompressed) file; a file damaged further
    on still gives its head (the damage is reported when its rows are read)."""
    chunks: list[bytes] = []
    size = 0
    with open_binary(path) as probe:
        try:
            while size < SNIFF_BYTES and (chunk := probe.read1(SNIFF_BYTES - size)):
                chunks.append(chunk)
                size += len(chunk)
        except (EOFError, zlib.error):
            pass
    return b"".join(chunks)


def usable_header(header: list[str], info: ReadResult) -> list[str]:
    """The header, or when a name is blank or repeated (the file is then refused: set in
    ``info.refusal``) unique stand-in names, so that the rows can still be read and kept.
    A refusal names a header name only when the header looks like one (``describe_header``)."""
    seen: set[str] = set()
    names: list[str] = []
    shown = header_looks_like_names([name for name in header if name])
    for position, name in enumerate(header, start=1):
        problem = ""
        if not name:
            problem = f"header column {position} has no name"
        elif name in seen:
            problem = (
                f"header names column {name!r} twice"
                if shown
                else f"header column {position} repeats an earlier name; {NOT_A_HEADER}"
            )
        if problem:
            info.refusal = info.refusal or problem
            name = f"column {position}: {name}"
        seen.add(name)
        names.append(name)
    return names


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
    info.header = usable_header([n.strip().lower() for n in parquet.schema_arrow.names], info)
    names = [*info.header, LINE_COLUMN, PROBLEM_COLUMN]
    offset = 0
    try:
        for batch in parquet.iter_batches(batch_size=BATCH_ROWS):
            n = batch.num_rows
            problems: list[str | None] = [None] * n
            arrays = [
                _as_text(column, name, problems)
                for name, column in zip(info.header, batch.columns, strict=True)
            ]
            arrays.append(pa.array(range(offset + 1, offset + n + 1), type=pa.int64()))
            arrays.append(pa.array(problems, type=pa.string()))
            offset += n
            yield pa.Table.from_arrays(arrays, names=names)
    except Exception as exc:
        raise FileRefused(f"the Parquet file is damaged: {exc}") from exc
    if offset == 0:  # no rows: still give the columns, as a header-only CSV does
        yield _table(info.header, [[] for _ in info.header], [], [])


def _as_text(column: pa.Array, name: str, problems: list[str | None]) -> pa.Array:
    """Any Parquet type as text: typed and untyped files then obey the same parsing rules.

    Nested values (lists, structs, maps) become JSON; binary values are decoded like CSV lines
    (UTF-8, else CP932), and a value that is neither is flagged in ``problems``."""
    kind = column.type
    if pa.types.is_nested(kind):
        return pa.array(
            [
                None if v is None else json.dumps(v, ensure_ascii=False, default=str)
                for v in column.to_pylist()
            ],
            type=pa.string(),
        )
    if pa.types.is_binary(kind) or pa.types.is_large_binary(kind):
        texts: list[str | None] = []
        for row, value in enumerate(column.to_pylist()):
            texts.append(None if value is None else _decode_value(value))
            if value is not None and texts[-1] is None:
                problems[row] = problems[row] or f"{name}: {BAD_BYTES} in the value"
        return pa.array(texts, type=pa.string())
    return column.cast(pa.string())


def _decode_value(value: bytes) -> str | None:
    for encoding in TEXT_ENCODINGS:
        try:
            return value.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None
