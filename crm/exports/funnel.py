"""The channel filters, applied in order, with the number of rows left after each."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pyarrow as pa

from crm.exports.audiences import Audience
from crm.exports.channels import Channel

#: The filter steps in the order they apply (holdout is split off afterwards).
STEPS = (
    "in_audience",
    "has_contact",
    "not_withdrawn",
    "opted_in",
    "not_suppressed",
    "valid_address",
    "one_per_address",
)

_CANDIDATES = "_export_candidates"


class ExportDataError(RuntimeError):
    """The audience or contact data breaks an export assumption (e.g. duplicate customers)."""


@dataclass(frozen=True)
class Funnel:
    #: (step, rows left after it), in STEPS order.
    steps: tuple[tuple[str, int], ...]
    #: The reachable rows, one per address, sorted by customer_id: the channel's contact
    #: columns, then (personalised channels) the audience's own columns.
    rows: pa.Table

    def count(self, step: str) -> int:
        return dict(self.steps)[step]


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def table_columns(conn: duckdb.DuckDBPyConnection, relation: str) -> list[str]:
    return [str(row[0]) for row in conn.execute(f"describe select * from {relation}").fetchall()]


def output_columns(
    channel: Channel, contact_columns: list[str], audience_columns: list[str]
) -> tuple[list[str], list[str]]:
    """The file's columns taken from export_contacts and from the audience model."""
    missing = [c for c in channel.contact_columns if c not in contact_columns]
    if missing:
        raise ExportDataError(f"export_contacts lacks the columns {missing}")
    from_contacts = [
        *channel.contact_columns,
        *(c for c in channel.optional_contact_columns if c in contact_columns),
    ]
    from_audience = (
        [c for c in audience_columns if c != "customer_id" and c not in from_contacts]
        if channel.personalised
        else []
    )
    return from_contacts, from_audience


def run_funnel(
    conn: duckdb.DuckDBPyConnection,
    audience: Audience,
    channel: Channel,
    contacts_relation: str,
) -> Funnel:
    audience_columns = table_columns(conn, audience.relation)
    if "customer_id" not in audience_columns:
        raise ExportDataError(f"{audience.relation} has no customer_id column")
    from_contacts, from_audience = output_columns(
        channel, table_columns(conn, contacts_relation), audience_columns
    )
    ((total, distinct),) = conn.execute(
        f"select count(*), count(distinct customer_id) from {audience.relation} "
        "where customer_id is not null"
    ).fetchall()
    if total != distinct:
        raise ExportDataError(
            f"{audience.relation} has {total - distinct} duplicate customer_id rows; "
            "an audience must have one row per customer"
        )
    selected = [f"c.{quote(c)}" for c in from_contacts] + [f"a.{quote(c)}" for c in from_audience]
    conn.execute(
        f"""
        create or replace temp table {_CANDIDATES} as
        select
            coalesce(c.customer_id is not null, false) as _x_has_contact,
            coalesce(not c.is_withdrawn, false) as _x_not_withdrawn,
            coalesce(c.{quote(channel.opt_in_column)}, false) as _x_opted_in,
            coalesce(not c.{quote(channel.suppressed_column)}, false) as _x_not_suppressed,
            coalesce({channel.valid_address_sql}, false) as _x_valid_address,
            {channel.address_key_sql} as _x_address_key,
            {", ".join(selected)}
        from {audience.relation} as a
        left join {contacts_relation} as c on c.customer_id = a.customer_id
        where a.customer_id is not null
        """
    )
    reachable = (
        "_x_has_contact and _x_not_withdrawn and _x_opted_in and _x_not_suppressed"
        " and _x_valid_address"
    )
    (counts,) = conn.execute(
        f"""
        select
            count(*),
            count(*) filter (where _x_has_contact),
            count(*) filter (where _x_has_contact and _x_not_withdrawn),
            count(*) filter (where _x_has_contact and _x_not_withdrawn and _x_opted_in),
            count(*) filter (
                where _x_has_contact and _x_not_withdrawn and _x_opted_in and _x_not_suppressed
            ),
            count(*) filter (where {reachable}),
            count(distinct _x_address_key) filter (where {reachable})
        from {_CANDIDATES}
        """
    ).fetchall()
    names = [*from_contacts, *from_audience]
    rows = conn.sql(
        f"""
        select {", ".join(quote(c) for c in names)}
        from {_CANDIDATES}
        where {reachable}
        qualify row_number() over (partition by _x_address_key order by customer_id) = 1
        order by customer_id
        """
    ).to_arrow_table()
    conn.execute(f"drop table {_CANDIDATES}")
    return Funnel(steps=tuple(zip(STEPS, (int(n) for n in counts), strict=True)), rows=rows)
