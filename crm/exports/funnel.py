"""The channel filters, applied in order, with the number of rows left after each."""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import pyarrow as pa

from crm.exports.audiences import Audience
from crm.exports.channels import Channel

#: The filter steps in the order they apply (holdout is split off afterwards).
STEPS = (
    "in_audience",
    "has_contact",
    "consent_certain",
    "not_withdrawn",
    "opted_in",
    "not_suppressed",
    "no_shared_refusal",
    "valid_address",
    "fields_fit",
    "one_per_address",
)
#: The seed (schema ``reference``) with the longest value each export column may hold.
FIELD_LIMITS_TABLE = "reference.export_field_limits"
#: The row of FIELD_LIMITS_TABLE that applies to every column it does not list.
ANY_COLUMN = "*"

_CANDIDATES = "_export_candidates"


class ExportDataError(RuntimeError):
    """The audience or contact data breaks an export assumption (e.g. duplicate customers)."""


@dataclass(frozen=True)
class HeldBack:
    """A reachable row not written because a value is longer than its column's limit."""

    customer_id: str
    #: The columns over their limit (never their values).
    columns: tuple[str, ...]


@dataclass(frozen=True)
class Funnel:
    #: (step, rows left after it), in STEPS order.
    steps: tuple[tuple[str, int], ...]
    #: The reachable rows, one per address, sorted by customer_id: the channel's contact
    #: columns, then (personalised channels) the audience's own columns.
    rows: pa.Table
    #: Audience members held back because a rejected consent row names them (customer ids).
    consent_uncertain: tuple[str, ...] = ()
    #: Reachable rows held back for an over-long value.
    too_long: tuple[HeldBack, ...] = field(default_factory=tuple)

    def count(self, step: str) -> int:
        return dict(self.steps)[step]


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def table_columns(conn: duckdb.DuckDBPyConnection, relation: str) -> list[str]:
    return [str(row[0]) for row in conn.execute(f"describe select * from {relation}").fetchall()]


def field_limits(conn: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Column → longest value allowed (characters), from the seed ``export_field_limits``.

    The seed must exist and give the ``*`` limit: without it the run cannot tell a broken
    record from a customer, so it exports nothing (fail closed)."""
    try:
        rows = conn.execute(
            f"select column_name, max_characters from {FIELD_LIMITS_TABLE}"
        ).fetchall()
    except duckdb.CatalogException as exc:
        raise ExportDataError(
            f"{FIELD_LIMITS_TABLE} is missing (seed seeds/contacts/export_field_limits.csv)"
        ) from exc
    limits = {str(name): int(limit) for name, limit in rows if name and limit is not None}
    if ANY_COLUMN not in limits:
        raise ExportDataError(f"{FIELD_LIMITS_TABLE} has no '{ANY_COLUMN}' row (every column)")
    return limits


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


def _too_long_sql(columns: list[tuple[str, str]], limits: dict[str, int]) -> str:
    """SQL: the names of the (alias, column) values longer than their limit, comma-joined;
    '' when none."""
    checks = [
        f"case when length(cast({alias}.{quote(name)} as varchar)) > "
        f"{limits.get(name, limits[ANY_COLUMN])} then {literal(name)} end"
        for alias, name in columns
    ]
    return f"concat_ws(',', {', '.join(checks)})" if checks else "''"


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
    limits = field_limits(conn)
    ((total, distinct),) = conn.execute(
        f"select count(*), count(distinct customer_id) from {audience.relation} "
        "where customer_id is not null"
    ).fetchall()
    if total != distinct:
        raise ExportDataError(
            f"{audience.relation} has {total - distinct} duplicate customer_id rows; "
            "an audience must have one row per customer"
        )
    written = [("c", c) for c in from_contacts] + [("a", c) for c in from_audience]
    selected = [f"{alias}.{quote(c)}" for alias, c in written]
    conn.execute(
        f"""
        create or replace temp table {_CANDIDATES} as
        select
            a.customer_id as _x_audience_customer_id,
            coalesce(c.customer_id is not null, false) as _x_has_contact,
            coalesce(not c.is_consent_uncertain, false) as _x_consent_certain,
            coalesce(not c.is_withdrawn, false) as _x_not_withdrawn,
            coalesce(c.{quote(channel.opt_in_column)}, false) as _x_opted_in,
            coalesce(not c.{quote(channel.suppressed_column)}, false) as _x_not_suppressed,
            coalesce(not c.{quote(channel.shared_refusal_column)}, false) as _x_no_shared_refusal,
            coalesce({channel.valid_address_sql}, false) as _x_valid_address,
            {_too_long_sql(written, limits)} as _x_too_long,
            {channel.address_key_sql} as _x_address_key,
            {", ".join(selected)}
        from {audience.relation} as a
        left join {contacts_relation} as c on c.customer_id = a.customer_id
        where a.customer_id is not null
        """
    )
    conditions = [
        "_x_has_contact",
        "_x_consent_certain",
        "_x_not_withdrawn",
        "_x_opted_in",
        "_x_not_suppressed",
        "_x_no_shared_refusal",
        "_x_valid_address",
        "_x_too_long = ''",
    ]
    cumulative = [" and ".join(conditions[: n + 1]) for n in range(len(conditions))]
    reachable = cumulative[-1]
    (counts,) = conn.execute(
        f"""
        select
            count(*),
            {", ".join(f"count(*) filter (where {c})" for c in cumulative)},
            count(distinct _x_address_key) filter (where {reachable})
        from {_CANDIDATES}
        """
    ).fetchall()
    uncertain = conn.execute(
        f"select _x_audience_customer_id from {_CANDIDATES} "
        "where _x_has_contact and not _x_consent_certain order by 1"
    ).fetchall()
    too_long = conn.execute(
        f"select _x_audience_customer_id, _x_too_long from {_CANDIDATES} "
        f"where {cumulative[-2]} and _x_too_long <> '' order by 1"
    ).fetchall()
    names = [c for _, c in written]
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
    return Funnel(
        steps=tuple(zip(STEPS, (int(n) for n in counts), strict=True)),
        rows=rows,
        consent_uncertain=tuple(str(cid) for (cid,) in uncertain),
        too_long=tuple(HeldBack(str(cid), tuple(columns.split(","))) for cid, columns in too_long),
    )
