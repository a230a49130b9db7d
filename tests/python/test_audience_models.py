"""Audiences, behaviour and member facts, the export layer and the PII boundary.

Runs on the shared generated shop (as of 2025-06-30). Each built-in audience is recomputed
here in pandas from the marts tables and the dbt vars, and must select exactly the same
customers; the contact normalisation is recomputed in Python on the shop's real member rows.
"""

from __future__ import annotations

import json
import re
import unicodedata
from datetime import timedelta

import pandas as pd
import pytest
import yaml

from crm.settings import PROJECT_DIR
from tests.python.conftest import AS_OF, query

pytestmark = pytest.mark.slow

AUDIENCES = (
    "win_back_lapsed_visitors",
    "first_purchase_offer",
    "gold_early_access",
    "product_repeaters",
    "birthday_month",
    "new_customer_thank_you",
    "top_segments_not_purchased",
)
#: Audiences that select someone on the shared shop (the others are checked by their rule).
NON_EMPTY_ON_SHOP = (
    "win_back_lapsed_visitors",
    "first_purchase_offer",
    "gold_early_access",
    "product_repeaters",
    "birthday_month",
    "top_segments_not_purchased",
)
#: Column names that would be personal data (product_name is not).
#: A value shaped like a Japanese phone number (half- or full-width digits, hyphens).
PHONE_VALUE = r"^[+]?[0-9０-９]{2,4}[-－][0-9０-９]{2,4}[-－][0-9０-９]{3,4}$"
#: Names of columns that would hold personal data (flags such as is_email_opt_in and
#: product names are not).
PII_COLUMN = (
    r"(?:^|_)(?:email|e_mail|mail_address|phone|tel|address|postal|zip|kana|city|birth_date)"
    r"(?:$|_)|(?:^|_)(?:family|given|first|last|full|customer)_name(?:$|_)|^name$"
)


def _vars() -> dict:
    with (PROJECT_DIR / "dbt_project.yml").open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)["vars"]


def _ids(frame: pd.DataFrame) -> set[str]:
    return set(frame["customer_id"])


@pytest.fixture(scope="module")
def marts(shop) -> dict[str, pd.DataFrame]:
    settings, _ = shop
    tables = {
        "facts": "marts.customer_facts",
        "rfm": "marts.customer_rfm",
        "lifecycle": "marts.customer_lifecycle",
        "members": "marts.member_facts",
        "behaviour": "marts.customer_behaviour",
        "segments": "marts.stable_segment_members",
        "ranks": "reference.member_ranks",
    }
    return {key: query(settings, f"select * from {table}") for key, table in tables.items()}


@pytest.fixture(scope="module")
def audiences(shop) -> dict[str, pd.DataFrame]:
    settings, _ = shop
    return {name: query(settings, f"select * from audiences.{name}") for name in AUDIENCES}


def _expected_audience(name: str, marts: dict[str, pd.DataFrame], shop) -> set[str]:
    """The rule of each built-in audience, written again in pandas from the marts."""
    settings, _ = shop
    v = _vars()
    facts, rfm, lifecycle = marts["facts"], marts["rfm"], marts["lifecycle"]
    members, behaviour, segments = marts["members"], marts["behaviour"], marts["segments"]
    if name == "win_back_lapsed_visitors":
        lapsed = _ids(rfm[rfm["rfm_group"].isin(v["audience_win_back_rfm_groups"])]) | _ids(
            lifecycle[lifecycle["lifecycle_stage"].isin(v["audience_win_back_lifecycle_stages"])]
        )
        recent = behaviour["days_since_last_visit"] < v["audience_win_back_visit_days"]
        return lapsed & _ids(behaviour[recent])
    if name == "first_purchase_offer":
        never_bought = _ids(facts[facts["order_count"] == 0])
        interested = behaviour[
            (behaviour["page_views"] >= v["audience_first_purchase_min_page_views"])
            & (behaviour["time_on_site_seconds"] >= v["audience_first_purchase_min_seconds"])
        ]
        return _ids(members) & never_bought & _ids(interested)
    if name == "gold_early_access":
        ranks = marts["ranks"].set_index("member_rank")["rank_order"]
        minimum = ranks[v["audience_early_access_min_rank"]]
        loyal = _ids(rfm[rfm["rfm_group"].isin(v["audience_early_access_rfm_groups"])]) | _ids(
            lifecycle[
                lifecycle["lifecycle_stage"].isin(v["audience_early_access_lifecycle_stages"])
            ]
        )
        return loyal & _ids(members[members["member_rank_order"] >= minimum])
    if name == "product_repeaters":
        lines = query(
            settings,
            f"""
            select orders.customer_id, orders.order_id
            from staging.stg_shop__order_lines as lines
            inner join intermediate.int_orders_enriched as orders
                on lines.order_id = orders.order_id
            where orders.is_purchase and not orders.is_guest
                and lines.{v["audience_repeat_dimension"]} = '{v["audience_repeat_value"]}'
            """,
        ).drop_duplicates()
        counts = lines.groupby("customer_id")["order_id"].nunique()
        return set(counts[counts >= v["audience_repeat_min_purchases"]].index)
    if name == "birthday_month":
        month = (AS_OF.month - 1 + v["audience_birthday_month_offset"]) % 12 + 1
        return _ids(members[members["birth_month"] == month])
    if name == "new_customer_thank_you":
        first = pd.to_datetime(facts["first_purchase_date"])
        low = pd.Timestamp(AS_OF - timedelta(days=v["audience_thank_you_max_days"]))
        high = pd.Timestamp(AS_OF - timedelta(days=v["audience_thank_you_min_days"]))
        return _ids(facts[(first >= low) & (first <= high)])
    if name == "top_segments_not_purchased":
        current = segments[
            segments["is_current_term"]
            & (segments["segment_rank"] <= v["audience_top_segments_max_rank"])
            & ~segments["is_new_this_term"]
            & ~segments["has_purchased_this_term"]
        ]
        return _ids(current)
    raise AssertionError(name)


@pytest.mark.parametrize("name", AUDIENCES)
def test_builtin_audience_selects_exactly_its_rule(name, audiences, marts, shop):
    audience = audiences[name]
    assert audience["customer_id"].notna().all() and audience["customer_id"].is_unique
    assert _ids(audience) <= _ids(marts["facts"])
    assert _ids(audience) == _expected_audience(name, marts, shop)
    if name in NON_EMPTY_ON_SHOP:
        assert len(audience) > 0


def test_new_customer_thank_you_rule_holds_row_by_row(audiences):
    audience = audiences["new_customer_thank_you"]
    v = _vars()
    days = audience["days_since_first_purchase"]
    assert days.between(v["audience_thank_you_min_days"], v["audience_thank_you_max_days"]).all()


def test_every_audience_has_exporter_metadata_in_the_manifest(shop):
    from orchestration.dbt_project import ensure_manifest

    manifest = json.loads(ensure_manifest().read_text(encoding="utf-8"))
    found = {}
    for node in manifest["nodes"].values():
        meta = (node.get("config") or {}).get("meta") or {}
        if node["resource_type"] == "model" and "audience" in meta:
            found[node["name"]] = meta["audience"]
            assert node["schema"] == "audiences"
    assert set(AUDIENCES) <= set(found)
    for name, audience in found.items():
        assert audience["channels"] and set(audience["channels"]) <= {"email", "sms", "dm"}, name
        assert audience["description"] and audience["owner"], name
        assert 0 <= float(audience.get("holdout_share", 0.1)) < 1, name
    assert found["top_segments_not_purchased"]["channels"] == ["dm"]
    assert set(found["win_back_lapsed_visitors"]["channels"]) == {"sms", "email"}


def test_marts_and_audiences_carry_no_personal_data(shop):
    settings, _ = shop
    columns = query(
        settings,
        """
        select table_schema, table_name, column_name, data_type
        from information_schema.columns
        where table_schema in ('marts', 'audiences', 'intermediate')
        """,
    )
    assert {"marts", "audiences"} <= set(columns["table_schema"])
    named = columns["column_name"].str.lower().str.contains(PII_COLUMN)
    leaking = columns[named & (columns["data_type"] != "BOOLEAN")]
    assert leaking.empty, leaking.to_string()
    # No value that looks like an e-mail address or a phone number either.
    for row in columns[columns["data_type"] == "VARCHAR"].itertuples():
        hits = query(
            settings,
            f"""
            select count(*) as n from {row.table_schema}.{row.table_name}
            where "{row.column_name}" like '%@%.%'
                or regexp_matches("{row.column_name}", '{PHONE_VALUE}')
            """,
        )
        assert hits["n"].iloc[0] == 0, f"{row.table_schema}.{row.table_name}.{row.column_name}"
    contacts = query(settings, "select * from exports.export_contacts limit 1")
    assert {"email", "phone_e164", "postal_code", "family_name", "address_line1"} <= set(
        contacts.columns
    )


def _phone_e164(raw: str | None) -> str | None:
    if raw is None:
        return None
    digits = re.sub(r"[^0-9+]", "", unicodedata.normalize("NFKC", raw))
    if digits.startswith("+810"):
        return "+81" + digits[4:]
    if digits.startswith("+81"):
        return digits
    if digits.startswith("0") and not digits.startswith("00"):
        return "+81" + digits[1:]
    return None


def _postal_code(raw: str | None) -> str | None:
    if raw is None:
        return None
    digits = re.sub(r"[^0-9]", "", unicodedata.normalize("NFKC", raw))
    return f"{digits[:3]}-{digits[3:]}" if len(digits) == 7 else None


def _address_part(part: str) -> str:
    return re.sub(r"\s", "", unicodedata.normalize("NFKC", part))


def _is_null(value) -> bool:
    return value is None or (isinstance(value, float) and pd.isna(value))


def test_export_contacts_normalise_the_shops_contact_data(shop):
    settings, _ = shop
    rows = query(
        settings,
        """
        select members.email as raw_email, members.phone as raw_phone,
            members.postal_code as raw_postal_code, contacts.*
        from staging.stg_shop__members as members
        inner join exports.export_contacts as contacts
            on members.customer_id = contacts.customer_id
        """,
    )
    members = query(settings, "select count(*) as n from staging.stg_shop__members")
    assert len(rows) == members["n"].iloc[0] and rows["customer_id"].is_unique
    for row in rows.itertuples():
        raw_email = None if _is_null(row.raw_email) else row.raw_email.strip().lower() or None
        assert (None if _is_null(row.email) else row.email) == raw_email
        raw_phone = None if _is_null(row.raw_phone) else row.raw_phone
        assert (None if _is_null(row.phone_e164) else row.phone_e164) == _phone_e164(raw_phone)
        raw_postal = None if _is_null(row.raw_postal_code) else row.raw_postal_code
        assert (None if _is_null(row.postal_code) else row.postal_code) == _postal_code(raw_postal)
    valid_phones = rows.loc[rows["is_phone_valid"], "phone_e164"]
    assert valid_phones.str.fullmatch(r"\+81[1-9][0-9]{8,9}").all()
    mobiles = valid_phones[valid_phones.str.match(r"\+81[789]0")]
    assert (mobiles.str.len() == 13).all()
    assert rows.loc[rows["is_postal_code_valid"], "postal_code"].str.fullmatch(r"\d{3}-\d{4}").all()
    valid_emails = rows.loc[rows["is_email_valid"], "email"]
    assert valid_emails.str.fullmatch(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+").all()
    # Most of the generated shop's contact data is usable after normalisation.
    assert rows["is_email_valid"].mean() > 0.9
    assert rows["is_phone_valid"].mean() > 0.8
    assert rows["is_postal_code_valid"].mean() > 0.9
    # One household key per address: members living together (the generator puts a share of
    # members at another member's address) share it, different addresses never do.
    households = rows.dropna(subset=["household_key"])
    assert (households["household_key"].str.split("|").str[0] == households["postal_code"]).all()
    address = households[["postal_code", "prefecture", "city", "address_line1", "address_line2"]]
    address = address.fillna("").map(_address_part)
    per_key = address.assign(key=households["household_key"]).drop_duplicates()
    assert per_key["key"].is_unique
    assert households["household_key"].duplicated().any()


def test_export_contacts_flag_every_suppression_up_to_as_of_date(shop):
    settings, _ = shop
    suppressions = query(settings, "select * from staging.stg_shop__suppressions")
    contacts = query(settings, "select * from exports.export_contacts")
    assert not suppressions.empty
    for channel, column in (("email", "email"), ("sms", "phone_e164"), ("dm", None)):
        listed = suppressions[suppressions["channel"] == channel]["address"]
        if channel == "email":
            listed = listed.str.strip().str.lower()
        elif channel == "sms":
            listed = listed.map(_phone_e164)
        by_address = contacts[column].isin(set(listed.dropna())) if column else False
        expected = by_address | contacts["customer_id"].isin(set(listed.dropna()))
        flagged = contacts[f"is_{channel}_suppressed"]
        assert (flagged == expected).all(), channel
        assert flagged.any(), channel


def test_behaviour_facts_agree_with_customer_facts(shop):
    settings, _ = shop
    compared = query(
        settings,
        """
        select facts.customer_id, facts.visits as facts_visits, behaviour.visits,
            facts.page_views as facts_page_views, behaviour.page_views,
            facts.last_visit_date as facts_last_visit, behaviour.last_visit_date,
            facts.last_viewed_sku as facts_sku, behaviour.last_viewed_sku
        from marts.customer_facts as facts
        inner join marts.customer_behaviour as behaviour
            on facts.customer_id = behaviour.customer_id
        """,
    )
    assert not compared.empty
    assert (compared["facts_visits"] == compared["visits"]).all()
    assert (compared["facts_page_views"] == compared["page_views"]).all()
    assert (compared["facts_last_visit"] == compared["last_visit_date"]).all()
    assert (compared["facts_sku"].fillna("") == compared["last_viewed_sku"].fillna("")).all()
    visitors = query(
        settings,
        "select count(*) as n, max(last_visit_date) as last from marts.visitor_behaviour",
    )
    assert visitors["n"].iloc[0] > 0 and visitors["last"].iloc[0].date() <= AS_OF


def test_export_history_exists_and_response_report_builds(shop):
    settings, _ = shop
    history = query(settings, "select * from exports.export_history")
    assert list(history.columns) == [
        "audience",
        "channel",
        "customer_id",
        "export_date",
        "is_holdout",
        "file_name",
    ]
    response = query(settings, "select * from marts.audience_response")
    assert {"exported_purchase_rate", "holdout_purchase_rate", "purchase_rate_lift"} <= set(
        response.columns
    )
