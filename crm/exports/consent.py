"""Who the night holds back because a consent change could not be read.

A rejected members or suppressions row that still stands (dbt model
``int_consent_rows_rejected``) holds back whoever it names from every export
(``export_contacts.is_consent_uncertain``). This module reads both for the run summary and the
alert: customer ids and the files and lines of the rejected rows, never a contact or a value.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

REJECTED_ROWS = "intermediate.int_consent_rows_rejected"
CONTACTS = "exports.export_contacts"
#: How many customer ids and rows an alert or summary line lists before "and N more".
LISTED = 20


@dataclass(frozen=True)
class ConsentHolds:
    #: Customers held back from every export, by customer id.
    customers: tuple[str, ...] = ()
    #: (feed, file, line) of each rejected row that still stands.
    rows: tuple[tuple[str, str, int], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.customers or self.rows)

    def describe(self) -> str:
        """One line naming the customers and the rejected rows (ids, files, lines only)."""
        return (
            f"{len(self.customers):,} customer(s) held back from every export "
            f"({_listed(self.customers)}): {len(self.rows):,} rejected members/suppressions "
            f"row(s) still stand ({_listed([f'{f}:{line}' for _, f, line in self.rows])}); "
            f"see {REJECTED_ROWS}"
        )


def _listed(items: list[str] | tuple[str, ...]) -> str:
    shown = ", ".join(items[:LISTED])
    more = len(items) - LISTED
    return f"{shown} and {more:,} more" if more > 0 else shown or "none"


def _exists(conn: duckdb.DuckDBPyConnection, relation: str) -> bool:
    schema, table = relation.split(".")
    found = conn.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [schema, table],
    ).fetchone()
    return bool(found and found[0])


def consent_holds(conn: duckdb.DuckDBPyConnection) -> ConsentHolds:
    """The customers and rejected rows of the night (empty before the models exist)."""
    if not (_exists(conn, REJECTED_ROWS) and _exists(conn, CONTACTS)):
        return ConsentHolds()
    customers = conn.execute(
        f"select customer_id from {CONTACTS} where is_consent_uncertain order by customer_id"
    ).fetchall()
    rows = conn.execute(
        f"select feed, source_file, source_line from {REJECTED_ROWS} "
        "order by feed, source_file, source_line"
    ).fetchall()
    return ConsentHolds(
        customers=tuple(str(c) for (c,) in customers),
        rows=tuple((str(feed), str(file), int(line)) for feed, file, line in rows),
    )
