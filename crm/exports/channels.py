"""The three export channels: who is reachable on each and which fields its file carries."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Channel:
    name: str
    #: export_contacts columns: consent and suppression for this channel.
    opt_in_column: str
    suppressed_column: str
    #: export_contacts column: another account sharing this channel's contact says no.
    shared_refusal_column: str
    #: SQL over export_contacts (alias ``c``): true when the address is usable for the channel.
    valid_address_sql: str
    #: SQL over export_contacts (alias ``c``): one row is exported per value (lowest customer_id).
    address_key_sql: str
    #: export_contacts columns written to the file, in order (customer_id first); required.
    contact_columns: tuple[str, ...]
    #: export_contacts personalisation columns written after them when the table has them.
    optional_contact_columns: tuple[str, ...] = ()
    #: True when the audience's own columns (personalisation) are appended to the file.
    personalised: bool = False
    #: True when a CP932 CSV is written beside the UTF-8 one (DM print vendors).
    writes_cp932: bool = False


EMAIL = Channel(
    name="email",
    opt_in_column="is_email_opt_in",
    suppressed_column="is_email_suppressed",
    shared_refusal_column="is_email_shared_refusal",
    valid_address_sql="c.is_email_valid and c.email is not null",
    address_key_sql="lower(trim(c.email))",
    contact_columns=(
        "customer_id",
        "email",
        "family_name",
        "given_name",
    ),
    optional_contact_columns=(
        "last_purchased_product",
        "last_purchased_product_name",
        "last_purchased_sku",
        "last_purchased_date",
        "last_viewed_product_name",
        "last_viewed_sku",
    ),
    personalised=True,
)

SMS = Channel(
    name="sms",
    opt_in_column="is_sms_opt_in",
    suppressed_column="is_sms_suppressed",
    shared_refusal_column="is_sms_shared_refusal",
    # The flag comes from dbt; the pattern is checked again because the CSV writer relies on it
    # (a valid E.164 number is the one text cell that may start with "+").
    valid_address_sql=(
        "c.is_phone_valid and regexp_full_match(c.phone_e164, '\\+[1-9][0-9]{6,14}')"
    ),
    address_key_sql="c.phone_e164",
    contact_columns=("customer_id", "phone_e164", "family_name"),
)

DM = Channel(
    name="dm",
    opt_in_column="is_dm_opt_in",
    suppressed_column="is_dm_suppressed",
    shared_refusal_column="is_dm_shared_refusal",
    valid_address_sql=(
        "c.is_postal_code_valid"
        " and regexp_full_match(c.postal_code, '[0-9]{3}-[0-9]{4}')"
        " and nullif(trim(c.prefecture), '') is not null"
        " and nullif(trim(c.city), '') is not null"
        " and nullif(trim(c.address_line1), '') is not null"
    ),
    # One piece of mail per household address; a member without a key is their own household.
    address_key_sql="coalesce(c.household_key, c.customer_id)",
    contact_columns=(
        "customer_id",
        "family_name",
        "given_name",
        "postal_code",
        "prefecture",
        "city",
        "address_line1",
        "address_line2",
    ),
    writes_cp932=True,
)

CHANNELS: dict[str, Channel] = {channel.name: channel for channel in (EMAIL, SMS, DM)}
