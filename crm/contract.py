"""The landing contract as data: feeds, their columns, types, keys and value rules.

This module is the single source of truth for what a landing file may contain. The loader,
the demo-shop generator, the docs and the tests all read it. See ``docs/landing-contract.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ColumnType = Literal["text", "timestamp", "date", "yen", "int", "bool"]

#: How each contract type is stored in the ``raw`` schema of the warehouse.
SQL_TYPES: dict[ColumnType, str] = {
    "text": "varchar",
    "timestamp": "timestamp",
    "date": "date",
    "yen": "decimal(18, 2)",
    "int": "bigint",
    "bool": "boolean",
}

ACCEPTED_SUFFIXES: tuple[str, ...] = (".csv", ".csv.gz", ".tsv", ".tsv.gz", ".parquet")


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType = "text"
    required: bool = False
    #: Allowed values (compared lower-cased); ``None`` means any value.
    allowed: tuple[str, ...] | None = None
    #: Value used when the cell is empty (a literal, already in canonical form).
    default: str | None = None
    #: Name of another column whose value is used when this one is empty.
    default_from: str | None = None
    #: Smallest allowed numeric value (inclusive), and whether it must be strictly greater.
    minimum: int | None = None
    exclusive_minimum: bool = False
    description: str = ""
    #: Personal data (a contact, a name, an address, a birth date): never shown in a log, an
    #: alert or a quality report (samples are masked), never published.
    personal: bool = False


@dataclass(frozen=True)
class Feed:
    name: str
    required: bool
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    description: str = ""
    #: Column that dates the row for point-in-time filtering.
    event_time: str = ""
    extras: dict[str, str] = field(default_factory=dict)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"feed {self.name!r} has no column {name!r}")


ORDER_STATUSES = ("ordered", "shipped", "delivered", "cancelled", "returned")
GENDERS = ("male", "female", "other", "unknown")
PAGE_TYPES = ("top", "category", "product", "cart", "checkout", "complete", "other")
CHANNELS = ("email", "sms", "dm")
#: The usual suppression reasons (documentation and the demo shop; any text is accepted).
SUPPRESSION_REASONS = ("unsubscribe", "bounce", "complaint", "returned_mail", "manual")

FEEDS: dict[str, Feed] = {
    f.name: f
    for f in (
        Feed(
            name="orders",
            required=True,
            key=("order_id",),
            event_time="ordered_at",
            description="受注: one row per order.",
            columns=(
                Column("order_id", required=True, description="Unique per order, across channels."),
                Column("customer_id", description="The shop's customer id; empty = guest order."),
                Column("ordered_at", "timestamp", required=True),
                Column("status", allowed=ORDER_STATUSES, default="ordered"),
                Column("channel", default="own_site"),
                Column("subtotal_amount", "yen"),
                Column("discount_amount", "yen"),
                Column("shipping_fee", "yen"),
                Column("tax_amount", "yen"),
                Column("total_amount", "yen", required=True),
                Column("payment_method"),
                Column("coupon_code"),
                Column("is_subscription", "bool"),
                Column("updated_at", "timestamp", default_from="ordered_at"),
            ),
        ),
        Feed(
            name="order_lines",
            required=False,
            key=("order_id", "line_number"),
            description="受注明細: one row per order line.",
            columns=(
                Column("order_id", required=True),
                Column("line_number", "int", required=True, minimum=1),
                Column("sku", required=True),
                Column("product_name"),
                Column("brand"),
                Column("category"),
                Column("quantity", "int", required=True, minimum=0, exclusive_minimum=True),
                Column("unit_price", "yen", required=True),
                Column("line_amount", "yen", description="Default quantity × unit_price."),
                Column("updated_at", "timestamp"),
            ),
        ),
        Feed(
            name="shipments",
            required=False,
            key=("shipment_id",),
            event_time="shipped_at",
            description="出荷: one row per shipment.",
            columns=(
                Column("shipment_id", required=True),
                Column("order_id", required=True),
                Column("shipped_at", "timestamp", required=True),
                Column("delivered_at", "timestamp"),
                Column("carrier"),
                Column("updated_at", "timestamp", default_from="shipped_at"),
            ),
        ),
        Feed(
            name="returns",
            required=False,
            key=("return_id",),
            event_time="returned_at",
            description="返品: one row per return event.",
            columns=(
                Column("return_id", required=True),
                Column("order_id", required=True),
                Column("line_number", "int", description="Empty = whole order."),
                Column("returned_at", "timestamp", required=True),
                Column("quantity", "int", minimum=0, exclusive_minimum=True),
                Column("refund_amount", "yen", required=True, minimum=0),
                Column("reason"),
                Column("updated_at", "timestamp", default_from="returned_at"),
            ),
        ),
        Feed(
            name="sessions",
            required=False,
            key=("session_id",),
            event_time="started_at",
            description="Web sessions from the site tag: one row per visit.",
            columns=(
                Column("session_id", required=True),
                Column("visitor_id", required=True, description="Cookie/device id."),
                Column("customer_id", description="When logged in or identified."),
                Column("started_at", "timestamp", required=True),
                Column("ended_at", "timestamp"),
                Column("duration_seconds", "int", minimum=0),
                Column("page_views", "int", minimum=0),
                Column("landing_page"),
                Column("referrer"),
                Column("source"),
                Column("medium"),
                Column("campaign"),
                Column("device_type"),
                Column("user_agent"),
                Column("converted", "bool"),
                Column("order_id", description="The order of the conversion in this session."),
                Column("updated_at", "timestamp", default_from="started_at"),
            ),
        ),
        Feed(
            name="page_views",
            required=False,
            key=("session_id", "viewed_at", "page_url"),
            event_time="viewed_at",
            description="Optional detail of sessions: one row per page view.",
            columns=(
                Column("session_id", required=True),
                Column("viewed_at", "timestamp", required=True),
                Column("page_url", required=True),
                Column("page_type", allowed=PAGE_TYPES, default="other"),
                Column("sku", description="For product pages."),
                Column("time_on_page_seconds", "int", minimum=0),
                Column("scroll_depth_pct", "int", minimum=0),
            ),
        ),
        Feed(
            name="members",
            required=False,
            key=("customer_id",),
            event_time="registered_at",
            description="会員: one row per customer.",
            columns=(
                Column("customer_id", required=True),
                Column("registered_at", "timestamp", required=True),
                Column("email", personal=True),
                Column("phone", personal=True),
                Column("family_name", personal=True),
                Column("given_name", personal=True),
                Column("family_name_kana", personal=True),
                Column("given_name_kana", personal=True),
                Column("gender", allowed=GENDERS, default="unknown"),
                Column("birth_date", "date", personal=True),
                Column("postal_code", personal=True),
                Column("prefecture"),
                Column("city", personal=True),
                Column("address_line1", personal=True),
                Column("address_line2", personal=True),
                Column("member_rank"),
                Column("email_opt_in", "bool"),
                Column("sms_opt_in", "bool"),
                Column("dm_opt_in", "bool"),
                Column("withdrawn_at", "timestamp", description="退会: never export them."),
                Column("updated_at", "timestamp", default_from="registered_at"),
            ),
        ),
        Feed(
            name="suppressions",
            required=False,
            key=("channel", "address"),
            event_time="suppressed_at",
            description="Blocked addresses from the mail/SMS/DM tools.",
            columns=(
                Column(
                    "channel",
                    description=(
                        "email, sms or dm (or a synonym in the seed suppression_channels); "
                        "all, * or empty = every channel; any other value counts as every "
                        "channel (fail closed) and is reported."
                    ),
                ),
                Column(
                    "address",
                    required=True,
                    description="Email, phone, postal address or customer_id: whoever it names.",
                    personal=True,
                ),
                Column("suppressed_at", "timestamp", required=True),
                Column("reason", description="Free text, kept as delivered (e.g. unsubscribe)."),
            ),
        ),
    )
}

FEED_NAMES: tuple[str, ...] = tuple(FEEDS)
