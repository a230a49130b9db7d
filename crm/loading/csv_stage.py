"""Stage a CSV/TSV landing file (optionally gzip-compressed) as text columns, with DuckDB.

The staged temporary view has the header's columns (text), ``LINE_COLUMN`` (the line the record
starts on) and ``PROBLEM_COLUMN`` (a problem met while reading the record, NULL when none): the
same table for every file, which the loader then types and checks in SQL (``checks``).

How a file is read, in one streaming pass over its bytes plus one DuckDB ``read_csv``:

1. **Bytes** (``_Scan``). The file's bytes are streamed in blocks that end at a line end. A block
   that is valid UTF-8 without NUL bytes is used as it is (the usual case: no Python work per
   line). Any other block is decoded line by line: each line as UTF-8 when it is valid UTF-8,
   else as CP932 (so a file mixing the two loses nothing: CP932 Japanese text is practically
   never valid UTF-8), NUL bytes removed; a line that is neither is replaced and flagged. From
   the first such block on, the UTF-8 text goes to a private temporary file, which DuckDB reads
   instead of the landing file. The file's encoding (for the ledger) is judged from its first
   megabyte (``detect_encoding``).
2. **Lines** (``_records_in``, numpy over each block). Lines end at LF, CRLF or a lone CR. A
   record starts on a non-empty line that follows an even number of quote characters since the
   header: quoted fields may hold line ends. This is exact for CSV whose unquoted fields hold no
   quote character; when DuckDB's record count disagrees (a stray quote inside an unquoted
   field), the record starts are counted again with Python's ``csv`` module, which reads quotes
   as DuckDB does.
3. **Fields** (DuckDB ``read_csv``, all text, comma or tab, ``"`` quotes, rejects stored). Its
   rows come in file order, and are numbered with the record starts (a positional join). The
   records it rejects (too many or too few fields, a quote never closed) come with their line and
   text: they are split into fields here and staged with the problem in words.

A file that cannot be used as a whole (UTF-16, damaged after some rows, an unusable header) is
still read as far as possible and ``ReadResult.refusal`` says why; the loader keeps the rows read
in the rejects table, so that loaded + rejected = rows in the file holds for refused files too.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import duckdb
import numpy as np
import pyarrow as pa

from crm.loading.parsing import quote_identifier, quote_literal
from crm.loading.reading import (
    BAD_BYTES,
    CUT_SHORT,
    LINE_COLUMN,
    PROBLEM_COLUMN,
    FileRefused,
    ReadResult,
    delimiter_for,
    detect_encoding,
    is_gzip,
    open_binary,
    read_head,
    usable_header,
)

#: Bytes per block of the streaming pass (blocks end at a line end; a longer line grows one).
BLOCK_BYTES = 16 << 20
#: Longest record DuckDB accepts (as Python's csv.field_size_limit of the former reader).
MAX_LINE_BYTES = 1 << 24
#: DuckDB's NULL string: a text no file holds, so that an empty field stays an empty text.
NO_NULL_STRING = "\x00crm: no null string\x00"
ROWS = "_landing_csv_rows"
NUMBERS = "_landing_csv_numbers"
REJECTS = "_landing_csv_rejects"
REJECT_SCANS = "_landing_csv_reject_scans"
REFUSED = "_landing_csv_refused"
LF, CR, QUOTE = 10, 13, 34
UTF16_REFUSAL = (
    "the file is UTF-16 text (it starts with a UTF-16 byte-order mark); "
    "accepted encodings are UTF-8 and CP932 (Shift_JIS)"
)
HEADER_BAD_BYTES = (
    f"the header row has {BAD_BYTES}; is the file UTF-16 or another encoding? "
    "accepted encodings are UTF-8 and CP932 (Shift_JIS)"
)


@dataclass
class _Records:
    """What the line pass found: record start lines (the header's included) and more."""

    starts: list[np.ndarray] = field(default_factory=list)
    #: Lines flagged while decoding (bytes of neither encoding, NUL bytes).
    bad_lines: list[int] = field(default_factory=list)
    lines: int = 0
    #: Quote characters seen so far, modulo 2 (odd: inside a quoted field).
    quoted: int = 0
    #: The file ends without a line end (then ``lines`` is that last line's number).
    unterminated: bool = False
    #: The file has LF line ends (else only lone CRs, old Mac exports, or one line).
    has_lf: bool = False

    def start_lines(self) -> np.ndarray:
        return np.concatenate(self.starts) if self.starts else np.zeros(0, dtype=np.int64)


def _records_in(block: bytes, found: _Records, final: bool) -> None:
    """Add the lines and record starts of ``block`` (which ends at a line end unless ``final``)."""
    data = np.frombuffer(block, dtype=np.uint8)
    if not len(data):
        return
    lf = np.flatnonzero(data == LF)
    cr = np.flatnonzero(data == CR)
    if len(lf):
        found.has_lf = True
        lone_cr = cr[(cr + 1 >= len(data)) | (data[np.minimum(cr + 1, len(data) - 1)] != LF)]
        ends = np.union1d(lf, lone_cr) if len(lone_cr) else lf
    else:
        ends = cr
    tail = not len(ends) or ends[-1] != len(data) - 1
    if tail and not final:
        raise AssertionError("a block must end at a line end")  # _blocks guarantees it
    if tail:  # the last line has no line end
        ends = np.append(ends, len(data))
        found.unterminated = True
    starts = np.concatenate(([0], ends[:-1] + 1))
    lengths = ends - starts
    crlf = (ends < len(data)) & (ends > 0)
    crlf[crlf] = (data[ends[crlf]] == LF) & (data[ends[crlf] - 1] == CR)
    lengths -= crlf
    quotes = np.flatnonzero(data == QUOTE)
    before = np.searchsorted(quotes, starts, side="left")  # quotes before each line starts
    outside = (found.quoted + before) % 2 == 0
    numbers = np.arange(found.lines + 1, found.lines + len(ends) + 1, dtype=np.int64)
    found.starts.append(numbers[outside & (lengths > 0)])
    found.lines += len(ends)
    found.quoted = (found.quoted + len(quotes)) % 2


def _decode_lines(block: bytes, first_line: int, bad_lines: list[int]) -> bytes:
    """The block as UTF-8, decoded line by line (UTF-8, else CP932); flags bad lines."""
    out: list[bytes] = []
    for number, line in enumerate(block.splitlines(keepends=True), start=first_line):
        if b"\x00" in line:
            bad_lines.append(number)
            line = line.replace(b"\x00", b"")
        try:
            line.decode("utf-8")
            out.append(line)
            continue
        except UnicodeDecodeError:
            pass
        try:
            out.append(line.decode("cp932").encode("utf-8"))
        except UnicodeDecodeError:
            bad_lines.append(number)
            out.append(line.decode("utf-8", errors="replace").encode("utf-8"))
    return b"".join(out)


def _clean(block: bytes) -> bool:
    if b"\x00" in block:
        return False
    try:
        block.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _blocks(raw: BinaryIO, size: int) -> Iterator[tuple[bytes, bool]]:
    """(block, final) pairs: each block but the last ends at a line end (LF, else CR). Reads
    in small pieces, so that a damaged file gives every complete line before the damage."""
    pieces: list[bytes] = []
    held = 0
    while True:
        try:
            piece = raw.read1(min(size, 1 << 16)) if hasattr(raw, "read1") else raw.read(size)
        except (OSError, EOFError, zlib.error):
            pending = b"".join(pieces)
            cut = max(pending.rfind(b"\n"), pending.rfind(b"\r"))
            if cut >= 0:  # the complete lines read before the damage
                yield pending[: cut + 1], False
            raise
        if not piece:
            yield b"".join(pieces), True
            return
        pieces.append(piece)
        held += len(piece)
        if held < size:
            continue
        pending = b"".join(pieces)
        cut = pending.rfind(b"\n")
        if cut < 0:
            cut = pending.rfind(b"\r")
            if cut == len(pending) - 1:
                cut = -1  # a CR at the end may be the first half of a CRLF: wait for more
        if cut < 0:
            pieces, held = [pending], len(pending)
            continue
        yield pending[: cut + 1], False
        rest = pending[cut + 1 :]
        pieces, held = ([rest] if rest else []), len(rest)


@dataclass
class _Scan:
    """The streaming pass over one file: record starts, flagged lines, the UTF-8 text."""

    path: Path
    info: ReadResult
    temp_dir: Path
    records: _Records = field(default_factory=_Records)
    #: The private UTF-8 copy DuckDB reads instead of the file (None: the file itself).
    copy: Path | None = None

    def run(self) -> None:
        found = self.records
        written = 0  # bytes of the file seen so far
        out: BinaryIO | None = None
        utf16 = self.info.encoding == "utf-16"
        try:
            with open_binary(self.path) as raw:
                source: BinaryIO = raw
                if utf16:  # refused anyway: its rows are read for the rejects table
                    text = io.TextIOWrapper(raw, encoding="utf-16", errors="replace", newline="")
                    source = io.BytesIO(text.read().encode("utf-8"))
                    out = self._open_copy(b"")
                for block, final in _blocks(source, BLOCK_BYTES):
                    if written == 0 and block.startswith(codecs.BOM_UTF8):
                        block = block[len(codecs.BOM_UTF8) :]
                        if out is None:
                            out = self._open_copy(b"")
                    first_line = found.lines + 1
                    if out is None and not _clean(block):
                        out = self._open_copy(self._prefix(written))
                    if out is not None and not utf16:
                        block = _decode_lines(block, first_line, found.bad_lines)
                    _records_in(block, found, final)
                    if out is not None:
                        out.write(block)
                    written += len(block)
        except (OSError, EOFError, zlib.error) as exc:
            self.info.refusal = self.info.refusal or (
                f"the file is damaged and cannot be read to its end "
                f"(read {found.lines} lines): {exc}"
            )
            self.records.unterminated = False
            if out is None:  # DuckDB cannot read the damaged file: give it what was read
                out = self._open_copy(self._prefix(written))
        finally:
            if out is not None:
                out.close()

    def _open_copy(self, prefix: bytes) -> BinaryIO:
        handle, name = tempfile.mkstemp(prefix="crm-landing-", suffix=".csv", dir=self.temp_dir)
        self.copy = Path(name)  # 0600 (mkstemp): it may hold personal data
        out = os.fdopen(handle, "wb")
        out.write(prefix)
        return out

    def _prefix(self, length: int) -> bytes:
        """The first ``length`` bytes of the (decompressed) file, BOM left out: they were clean."""
        if not length:
            return b""
        with open_binary(self.path) as raw:
            data = raw.read(length + len(codecs.BOM_UTF8))
        if data.startswith(codecs.BOM_UTF8):
            data = data[len(codecs.BOM_UTF8) :]
        return data[:length]


def _temp_dir(conn: duckdb.DuckDBPyConnection) -> Path:
    found = conn.execute("select current_setting('temp_directory')").fetchone()
    folder = Path(found[0]) if found and found[0] else Path(tempfile.gettempdir())
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def _header(path: Path, scan: _Scan, delimiter: str) -> list[str]:
    """The header's names (first record of the text DuckDB reads)."""
    source = scan.copy or path
    with open_binary(source) if scan.copy is None else source.open("rb") as raw:
        head = raw.read(1 << 20)
    if head.startswith(codecs.BOM_UTF8):
        head = head[len(codecs.BOM_UTF8) :]
    text = head.decode("utf-8", errors="replace")
    record = next(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), None)
    return [name.strip().lower() for name in record or []]


def _read_csv_sql(source: Path, width: int, delimiter: str, records: _Records) -> str:
    columns = ", ".join(f"'c{i}': 'VARCHAR'" for i in range(width))
    options = [
        "header = true",
        f"columns = {{{columns}}}",
        f"delim = {quote_literal(delimiter)}",
        "quote = '\"'",
        "escape = '\"'",
        f"nullstr = {quote_literal(NO_NULL_STRING)}",
        "auto_detect = false",
        "null_padding = false",
        f"max_line_size = {MAX_LINE_BYTES}",
        "store_rejects = true",
        f"rejects_table = '{REJECTS}'",
        f"rejects_scan = '{REJECT_SCANS}'",
        "compression = 'gzip'" if is_gzip(source) else "compression = 'none'",
    ]
    if not records.has_lf:
        options.append("new_line = '\\r'")
    return f"read_csv({quote_literal(str(source))}, {', '.join(options)})"


def _rejected_records(
    conn: duckdb.DuckDBPyConnection, delimiter: str, width: int
) -> list[tuple[int, list[str], str | None]]:
    """(line, fields, problem) of every record DuckDB refused; blank lines are left out."""
    rows = conn.execute(
        # one entry per missing column: one record per line
        f"select line, min(csv_line), min(error_type) from {REJECTS} group by line order by line"
    ).fetchall()
    found: list[tuple[int, list[str], str | None]] = []
    for line, text, error_type in rows:
        record = (text or "").rstrip("\r\n")
        if not record.strip():
            found.append((int(line), [], None))  # blank (spaces only): skipped, as empty lines
            continue
        fields = next(csv.reader(io.StringIO(record, newline=""), delimiter=delimiter), [])
        problem = f"expected {width} fields as in the header, found {len(fields)}"
        last = int(line) + record.count("\n") + record.count("\r") - record.count("\r\n")
        if last > int(line):
            problem += (
                f" (the record runs from line {line} to line {last}: is a quoted field not closed?)"
            )
        elif error_type not in ("TOO MANY COLUMNS", "MISSING COLUMNS"):
            problem = f"the line is not valid CSV ({str(error_type).lower()})"
        found.append((int(line), fields, problem))
    return found


def _starts_by_python(source: Path, delimiter: str) -> np.ndarray:
    """Record start lines counted by Python's csv module (a stray quote in an unquoted field)."""
    starts: list[int] = []
    with source.open("r", encoding="utf-8", errors="replace", newline="") as text:
        reader = csv.reader(text, delimiter=delimiter)
        begin = 1
        for row in reader:
            if row and not (len(row) == 1 and not row[0]):
                starts.append(begin)
            begin = reader.line_num + 1
    return np.asarray(starts, dtype=np.int64)


def stage_csv(conn: duckdb.DuckDBPyConnection, path: Path, info: ReadResult, stage: str) -> None:
    """Read the file into the temporary table ``stage`` (see the module docstring); raises
    ``FileRefused`` when nothing can be read, sets ``info.refusal`` when the rows can be read
    but the file cannot be used."""
    try:
        head = read_head(path)
    except OSError as exc:
        raise FileRefused(f"cannot read the file: {exc}") from exc
    if not head.strip():
        raise FileRefused("the file is empty (no header row)")
    info.encoding = detect_encoding(head)
    if info.encoding == "utf-16":
        info.refusal = UTF16_REFUSAL
    delimiter = delimiter_for(path)
    scan = _Scan(path, info, _temp_dir(conn))
    try:
        scan.run()
        header = _header(path, scan, delimiter)
        if not header or not any(header):
            raise FileRefused(info.refusal or "the file is empty (no header row)")
        info.header = usable_header(header, info)
        _stage(conn, scan, delimiter, stage)
    except BaseException:
        drop_stage(conn, stage)
        raise
    finally:
        if scan.copy is not None:
            scan.copy.unlink(missing_ok=True)
        for table in (REJECTS, REJECT_SCANS):
            conn.execute(f"drop table if exists {table}")


def drop_stage(conn: duckdb.DuckDBPyConnection, stage: str) -> None:
    """Drop the staged view (if ``stage`` is one) and the tables under it."""
    found = conn.execute(
        "select count(*) from duckdb_views() where temporary and view_name = ?", [stage]
    ).fetchone()
    if found and found[0]:
        conn.execute(f"drop view {stage}")
    for table in (ROWS, NUMBERS, REFUSED):
        conn.execute(f"drop table if exists {table}")


def _stage(conn: duckdb.DuckDBPyConnection, scan: _Scan, delimiter: str, stage: str) -> None:
    info, found = scan.info, scan.records
    width = len(info.header)
    source = scan.copy or scan.path
    starts = found.start_lines()
    header_end = int(starts[1]) - 1 if len(starts) > 1 else found.lines
    if not info.refusal and any(line <= header_end for line in found.bad_lines):
        info.refusal = HEADER_BAD_BYTES
    drop_stage(conn, stage)
    for table in (REJECTS, REJECT_SCANS):
        conn.execute(f"drop table if exists {table}")
    conn.execute(
        f"create temp table {ROWS} as select * from "
        f"{_read_csv_sql(source, width, delimiter, found)}"
    )
    rows = int(conn.execute(f"select count(*) from {ROWS}").fetchone()[0])  # type: ignore[index]
    rejected = _rejected_records(conn, delimiter, width)
    records = starts[1:]  # the header is the first record
    refused_lines = np.asarray([line for line, _, _ in rejected], dtype=np.int64)
    kept = records[~np.isin(records, refused_lines)]
    if len(kept) != rows or not np.isin(refused_lines, records).all():
        records = _starts_by_python(source, delimiter)[1:]
        kept = records[~np.isin(records, refused_lines)]
    if len(kept) != rows:
        raise FileRefused(
            f"the file's records cannot be counted reliably ({rows} read, {len(kept)} counted): "
            "is a quote character misplaced?"
        )
    problems = _line_problems(found, records, info)
    numbers = pa.table(
        {
            "line": pa.array(kept, type=pa.int64()),
            "problem": pa.array([problems.get(int(line)) for line in kept], type=pa.string())
            if problems
            else pa.nulls(len(kept), type=pa.string()),
        }
    )
    conn.register("_landing_csv_numbers_arrow", numbers)
    try:
        conn.execute(f"create temp table {NUMBERS} as select * from _landing_csv_numbers_arrow")
    finally:
        conn.unregister("_landing_csv_numbers_arrow")
    names = [quote_identifier(name) for name in info.header]
    line, problem = quote_identifier(LINE_COLUMN), quote_identifier(PROBLEM_COLUMN)
    columns = ", ".join(f"{name} varchar" for name in names)
    conn.execute(f"create temp table {REFUSED} ({columns}, {line} bigint, {problem} varchar)")
    bad = [(ln, fields, text) for ln, fields, text in rejected if text is not None]
    if bad:
        values = ", ".join(["?"] * (width + 2))
        conn.executemany(
            f"insert into {REFUSED} values ({values})",
            [
                [*(fields + [""] * width)[:width], ln, _joined(problems.get(ln), text)]
                for ln, fields, text in bad
            ],
        )
    selected = ", ".join(f"r.c{i} as {name}" for i, name in enumerate(names))
    # a view, not a copy: the loader reads the staged rows once to type them
    conn.execute(
        f"create temp view {stage} as select {selected}, n.line as {line}, "
        f"n.problem as {problem} from {ROWS} as r positional join {NUMBERS} as n "
        f"union all select * from {REFUSED}"
    )


def _joined(first: str | None, second: str | None) -> str | None:
    parts = [p for p in (first, second) if p]
    return "; ".join(parts) if parts else None


def _line_problems(found: _Records, records: np.ndarray, info: ReadResult) -> dict[int, str]:
    """Record start line → its reading problem (bad bytes, or the last line cut short)."""
    problems: dict[int, str] = {}
    if not len(records):
        return problems
    for bad in sorted(set(found.bad_lines)):
        at = int(np.searchsorted(records, bad, side="right")) - 1
        if at >= 0:
            problems[int(records[at])] = f"{BAD_BYTES} in the line"
    if found.unterminated and found.lines > 1 and not info.refusal:
        at = int(np.searchsorted(records, found.lines, side="right")) - 1
        if at >= 0:
            start = int(records[at])
            problems[start] = _joined(CUT_SHORT, problems.get(start)) or CUT_SHORT
            info.unterminated_line = found.lines
    return problems
