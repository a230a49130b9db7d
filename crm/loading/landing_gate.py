"""The landing gate: landing files whose problems must stop the night (a blocking check).

The latest ledger entry of each source file name of a feed (``raw._load_ledger``, by
``source_file``, latest ``load_id``) counts:

- ``suppressions`` and ``members``: a refused file blocks (a lost opt-out or withdrawal could
  let someone be contacted who must not be);
- ``suppressions``: a file with any rejected row blocks too (that row may be an opt-out);
- every feed: a file refused for rejecting more than ``landing_reject_share_critical`` blocks.

The problem stays until the shop lands a corrected file under the same name (its entry is then
the latest and clean). What the gate reports names files, line numbers and reasons in the
loader's words: never a value of a row.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

from crm.loading.reject_share import CRITICAL_REFUSAL_MARK
from crm.loading.tables import LEDGER_TABLE, REJECTS_TABLE

#: Feeds where a refused file blocks the night.
REFUSAL_BLOCKS = ("suppressions", "members")
#: Feeds where a single rejected row blocks the night.
REJECTED_ROW_BLOCKS = ("suppressions",)
#: At most this many rejected lines are listed per file.
MAX_LINES = 20


@dataclass(frozen=True)
class BlockedFile:
    source_file: str
    load_id: int
    status: str
    rows_in_file: int
    rows_rejected: int
    #: Why the file blocks the night.
    why: str
    #: The loader's message (a refusal reason; never a data value).
    message: str
    #: (line, reason without values) of up to ``MAX_LINES`` rejected rows.
    lines: list[tuple[int, str]] = field(default_factory=list)

    def describe(self) -> str:
        text = f"{self.source_file}: {self.why}"
        if self.message:
            text += f" ({self.message})"
        if self.lines:
            listed = ", ".join(f"{line}" + (f" ({why})" if why else "") for line, why in self.lines)
            more = self.rows_rejected - len(self.lines)
            text += f"; rejected lines: {listed}" + (f" and {more} more" if more > 0 else "")
        return text


def blocked_files(conn: duckdb.DuckDBPyConnection, feed: str) -> list[BlockedFile]:
    """The files of ``feed`` whose latest ledger entry blocks the night (by source file)."""
    latest = conn.execute(
        f"""
        select source_file, load_id, status, rows_in_file, rows_rejected, coalesce(message, '')
        from {LEDGER_TABLE}
        where feed = ?
        qualify row_number() over (partition by source_file order by load_id desc) = 1
        order by source_file
        """,
        [feed],
    ).fetchall()
    blocked: list[BlockedFile] = []
    for source, load_id, status, rows, rejected, message in latest:
        why = ""
        if status == "refused" and CRITICAL_REFUSAL_MARK in message:
            why = "refused: too many rows rejected"
        elif status == "refused" and feed in REFUSAL_BLOCKS:
            why = f"refused (a {feed} file must load in full)"
        elif rejected and feed in REJECTED_ROW_BLOCKS:
            why = f"{rejected} of {rows} rows rejected (every {feed} row must load)"
        if why:
            lines = rejected_lines(conn, load_id, message)
            blocked.append(
                BlockedFile(source, load_id, status, rows, rejected, why, message, lines)
            )
    return blocked


def rejected_lines(
    conn: duckdb.DuckDBPyConnection, load_id: int, message: str
) -> list[tuple[int, str]]:
    """Up to ``MAX_LINES`` rejected lines of a load with a reason free of values; lines with a
    problem of their own first."""
    refused = f"file refused: {message}"
    found = conn.execute(
        f"""
        select source_line, column_name, reason from {REJECTS_TABLE}
        where load_id = ? and source_line is not null
        order by reason = ?, source_line
        limit {MAX_LINES}
        """,
        [load_id, refused],
    ).fetchall()
    return [(int(line), safe_reason(column, reason, refused)) for line, column, reason in found]


def safe_reason(column: str | None, reason: str, refused: str) -> str:
    """A reject's reason in words that quote no value: a column problem is named by its column
    and kind (the reason itself may quote the value), a read problem is kept (it holds none)."""
    own = reason.removeprefix(refused).removeprefix("; ") if reason.startswith(refused) else reason
    if not own:
        return ""
    if column is None:
        return own
    prefix = f"{column}: "
    if f"{prefix}required value is missing" in own or f"{prefix}required column is empty" in own:
        kind = "required value missing"
    elif "is too large" in own:
        kind = "value too large"
    elif "is not one of" in own:
        kind = "value not allowed"
    elif "must be" in own:
        kind = "value out of range"
    else:
        kind = "value unreadable"
    return f"{column}: {kind}"
