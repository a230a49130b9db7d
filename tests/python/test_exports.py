"""Audience exports: pure helpers, a handmade warehouse, then the generated shop end to end."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import stat
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml

from crm.exports import Audience, AudienceConfigError, discover_audiences, export_audience
from crm.exports.audiences import contacts_relation
from crm.exports.cells import is_e164, neutralise, safe_text
from crm.exports.cp932 import REPLACEMENT, encode_cp932, to_cp932_text
from crm.exports.export import ExportOptions
from crm.exports.funnel import STEPS, ExportDataError
from crm.exports.holdout import holdout_fraction, is_held_out
from crm.loading.raw_layer import copy_warehouse
from tests.python.conftest import AS_OF, REPO, run_dbt, settings_for

# --------------------------------------------------------------------------------------------
# Pure helpers


@pytest.mark.parametrize(
    "value",
    ["=1+1", '=HYPERLINK("http://x","y")', "+81", "-2", "@SUM(A1)", "\tx", "\rx", "＝1"],
)
def test_formula_like_text_gets_a_leading_quote(value: str):
    assert neutralise(value) == "'" + value


@pytest.mark.parametrize("value", ["山田", "1-2-3", "100-0001", "a=b", "", "'quoted"])
def test_ordinary_text_is_left_alone(value: str):
    assert neutralise(value) == value


def test_a_valid_e164_phone_is_the_one_cell_that_may_start_with_plus():
    assert is_e164("+819012345678")
    assert safe_text("+819012345678", "phone_e164") == ("+819012345678", False)
    assert not is_e164("+81-90-1234")
    assert safe_text("+1+1", "phone_e164") == ("'+1+1", True)
    assert safe_text("+819012345678", "family_name") == ("'+819012345678", True)


def test_cp932_replaces_and_counts_what_it_cannot_encode():
    assert to_cp932_text("山田 太郎") == ("山田 太郎", 0)
    assert to_cp932_text("𠮷田") == (REPLACEMENT + "田", 1)
    assert to_cp932_text("花子😀🎉") == ("花子" + REPLACEMENT * 2, 2)
    # CP932 twins are swapped without loss and not counted; IBM/NEC extensions are kept.
    assert to_cp932_text("1〜2−3") == ("1～2－3", 0)
    assert to_cp932_text("髙橋 﨑 ①") == ("髙橋 﨑 ①", 0)
    data, replaced = encode_cp932("𠮷野家 〒")
    assert replaced == 1
    assert data.decode("cp932") == REPLACEMENT + "野家 〒"


def test_holdout_is_a_stable_hash_close_to_the_share():
    assert holdout_fraction("win_back", "C1") == holdout_fraction("win_back", "C1")
    assert holdout_fraction("win_back", "C1") != holdout_fraction("birthday", "C1")
    ids = [f"C{n:05d}" for n in range(20000)]
    fractions = [holdout_fraction("win_back", cid) for cid in ids]
    assert all(0 <= f < 1 for f in fractions)
    held = sum(is_held_out("win_back", cid, 0.1) for cid in ids)
    assert 0.09 < held / len(ids) < 0.11
    assert not any(is_held_out("win_back", cid, 0.0) for cid in ids[:100])


def _model(name: str, meta: dict | None, schema: str = "audiences") -> dict:
    return {
        "resource_type": "model",
        "name": name,
        "alias": name,
        "schema": schema,
        "config": {"meta": {"audience": meta} if meta is not None else {}},
    }


def test_audiences_are_the_models_with_audience_meta():
    manifest = {
        "nodes": {
            "model.p.b_aud": _model("b_aud", {"channels": ["email", "sms"], "owner": "crm"}),
            "model.p.a_aud": _model("a_aud", {"channels": ["dm"], "holdout_share": 0.2}),
            "model.p.facts": _model("facts", None, "marts"),
            "model.p.export_contacts": _model("export_contacts", None, "exports"),
        }
    }
    audiences = discover_audiences(manifest)
    assert [a.name for a in audiences] == ["a_aud", "b_aud"]
    assert audiences[0].holdout_share == 0.2 and audiences[0].channels == ("dm",)
    assert audiences[1].holdout_share == 0.1 and audiences[1].owner == "crm"
    assert audiences[1].relation == '"audiences"."b_aud"'
    assert contacts_relation(manifest) == '"exports"."export_contacts"'


@pytest.mark.parametrize(
    "meta", [{"channels": ["fax"]}, {"channels": []}, {"channels": ["email"], "holdout_share": 1}]
)
def test_a_bad_audience_meta_is_refused_with_the_model_name(meta: dict):
    manifest = {"nodes": {"model.p.x": _model("x", meta)}}
    with pytest.raises(AudienceConfigError, match="model x"):
        discover_audiences(manifest)


# --------------------------------------------------------------------------------------------
# A handmade warehouse: one member per filter

CONTACT_COLUMNS = (
    "customer_id, family_name, given_name, family_name_kana, given_name_kana, email, "
    "is_email_valid, phone_e164, is_phone_valid, postal_code, is_postal_code_valid, prefecture, "
    "city, address_line1, address_line2, household_key, is_email_opt_in, is_sms_opt_in, "
    "is_dm_opt_in, is_withdrawn, is_email_suppressed, is_sms_suppressed, is_dm_suppressed, "
    "is_consent_uncertain, is_email_shared_refusal, is_sms_shared_refusal, is_dm_shared_refusal, "
    "last_purchased_product_name, last_viewed_sku"
)


def _contact(cid: str, **overrides: object) -> tuple:
    row: dict[str, object] = {
        "customer_id": cid,
        "family_name": "山田",
        "given_name": "太郎",
        "family_name_kana": "ヤマダ",
        "given_name_kana": "タロウ",
        "email": f"{cid.lower()}@example.jp",
        "is_email_valid": True,
        "phone_e164": "+8190" + cid[-2:].rjust(8, "0"),
        "is_phone_valid": True,
        "postal_code": "100-0001",
        "is_postal_code_valid": True,
        "prefecture": "東京都",
        "city": "千代田区",
        "address_line1": "千代田1-1-" + cid[-2:],
        "address_line2": None,
        "household_key": "h" + cid,
        "is_email_opt_in": True,
        "is_sms_opt_in": True,
        "is_dm_opt_in": True,
        "is_withdrawn": False,
        "is_email_suppressed": False,
        "is_sms_suppressed": False,
        "is_dm_suppressed": False,
        "is_consent_uncertain": False,
        "is_email_shared_refusal": False,
        "is_sms_shared_refusal": False,
        "is_dm_shared_refusal": False,
        "last_purchased_product_name": "緑茶ティーバッグ",
        "last_viewed_sku": "SKU-1",
    }
    row.update(overrides)
    return tuple(row.values())


HANDMADE_CONTACTS = [
    _contact("C01"),
    _contact("C02", is_withdrawn=True),
    _contact("C03", is_email_opt_in=False, is_sms_opt_in=False, is_dm_opt_in=False),
    _contact("C04", is_email_suppressed=True, is_sms_suppressed=True, is_dm_suppressed=True),
    _contact(
        "C05",
        email="not-an-email",
        is_email_valid=False,
        phone_e164=None,
        is_phone_valid=False,
        postal_code=None,
        is_postal_code_valid=False,
    ),
    # Same address as C01 on every channel: deduplicated away (C01 has the lowest id).
    _contact("C06", email="C01@Example.jp", phone_e164="+819000000001", household_key="hC01"),
    _contact("C07", family_name="𠮷田", given_name='=HYPERLINK("http://evil.example","x")'),
    _contact("C09"),  # a member outside the audience
    # A rejected members or suppressions row names C10: held back from every channel.
    _contact("C10", is_consent_uncertain=True),
    # Another account with C11's address, phone and household said no.
    _contact(
        "C11", is_email_shared_refusal=True, is_sms_shared_refusal=True, is_dm_shared_refusal=True
    ),
    # A name longer than the seed's 50 characters on every channel: held back, not written.
    _contact("C12", family_name="長" * 1000),
]
#: The limits of the seed seeds/contacts/export_field_limits.csv that the handmade rows meet.
FIELD_LIMITS = [("family_name", 50), ("given_name", 50), ("*", 500)]


@pytest.fixture
def handmade(tmp_path: Path) -> Iterator[tuple[duckdb.DuckDBPyConnection, Audience, Path]]:
    conn = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    conn.execute("create schema audiences; create schema exports; create schema reference")
    conn.execute(
        "create table reference.export_field_limits (column_name varchar, max_characters int)"
    )
    conn.executemany("insert into reference.export_field_limits values (?, ?)", FIELD_LIMITS)
    placeholders = ", ".join("?" * len(HANDMADE_CONTACTS[0]))
    conn.execute(
        f"""
        create table exports.export_contacts as
        select * from (values ({placeholders})) as t({CONTACT_COLUMNS}) limit 0
        """,
        list(HANDMADE_CONTACTS[0]),
    )
    conn.executemany(
        f"insert into exports.export_contacts values ({placeholders})",
        [list(row) for row in HANDMADE_CONTACTS],
    )
    conn.execute(
        """
        create table audiences.handmade as
        select * from (values
            ('C01', 's1_top', -3), ('C02', 's1_top', 1), ('C03', 's2_high', 2),
            ('C04', 's2_high', 3), ('C05', 's3_upper_mid', 4), ('C06', 's3_upper_mid', 5),
            ('C07', '=cmd|x', 6), ('C08', 's6_low', 7), ('C10', 's1_top', 8),
            ('C11', 's1_top', 9), ('C12', 's1_top', 10)
        ) as t(customer_id, segment, days_to_birthday)
        """
    )
    audience = Audience(
        name="handmade",
        schema="audiences",
        identifier="handmade",
        channels=("email", "sms", "dm"),
        description="test",
        owner="tests",
        holdout_share=0.0,
    )
    try:
        yield conn, audience, tmp_path / "exports"
    finally:
        conn.close()


def _export(conn, audience, channel, export_dir, **kwargs):
    return export_audience(
        conn,
        audience,
        channel,
        contacts_relation='"exports"."export_contacts"',
        export_dir=export_dir,
        as_of_date=AS_OF,
        options=kwargs.pop("options", ExportOptions()),
        **kwargs,
    )


def _read_csv(path: Path, encoding: str = "utf-8") -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_bytes().decode(encoding), newline="")))


@pytest.mark.parametrize("channel", ["email", "sms", "dm"])
def test_each_filter_removes_its_member_and_counts_are_kept(handmade, channel: str):
    conn, audience, export_dir = handmade
    result = _export(conn, audience, channel, export_dir)
    assert [step for step, _ in result.funnel] == list(STEPS)
    assert [rows for _, rows in result.funnel] == [11, 10, 9, 8, 7, 6, 5, 4, 3, 2]
    rows = _read_csv(result.folder / f"{channel}.csv")
    assert [r["customer_id"] for r in rows] == ["C01", "C07"]
    manifest = json.loads(result.manifest_path.read_text(encoding="utf-8"))
    assert [s["rows"] for s in manifest["funnel"]] == [11, 10, 9, 8, 7, 6, 5, 4, 3, 2]
    assert manifest["exported_rows"] == 2 and manifest["held_out_rows"] == 0
    # The manifest names who was held back and why, never a contact or a value.
    assert manifest["consent_uncertain_customers"] == ["C10"]
    assert manifest["held_back_too_long"] == [{"customer_id": "C12", "columns": ["family_name"]}]
    assert "長長" not in result.manifest_path.read_text(encoding="utf-8")
    assert not any("長長" in path.read_bytes().decode("utf-8", "replace")
                   for path in result.files.values() if path.suffix == ".csv")  # fmt: skip


def test_exports_refuse_to_run_without_field_limits(handmade):
    conn, audience, export_dir = handmade
    conn.execute("drop table reference.export_field_limits")
    with pytest.raises(ExportDataError, match="export_field_limits"):
        _export(conn, audience, "email", export_dir)


def test_files_carry_the_fields_of_their_channel(handmade):
    conn, audience, export_dir = handmade
    email = _read_csv(_export(conn, audience, "email", export_dir).folder / "email.csv")
    assert list(email[0]) == [
        "customer_id", "email", "family_name", "given_name",
        "last_purchased_product_name", "last_viewed_sku", "segment", "days_to_birthday",
    ]  # fmt: skip
    sms = _read_csv(_export(conn, audience, "sms", export_dir).folder / "sms.csv")
    assert list(sms[0]) == ["customer_id", "phone_e164", "family_name"]
    assert sms[0]["phone_e164"] == "+819000000001"  # not neutralised: E.164 is digits only
    dm = _read_csv(_export(conn, audience, "dm", export_dir).folder / "dm.csv")
    assert list(dm[0]) == [
        "customer_id", "family_name", "given_name", "postal_code",
        "prefecture", "city", "address_line1", "address_line2",
    ]  # fmt: skip
    assert dm[0]["postal_code"] == "100-0001" and dm[0]["prefecture"] == "東京都"


def test_formula_cells_are_neutralised_but_numbers_are_not(handmade):
    conn, audience, export_dir = handmade
    result = _export(conn, audience, "email", export_dir)
    by_id = {r["customer_id"]: r for r in _read_csv(result.folder / "email.csv")}
    assert by_id["C07"]["given_name"] == '\'=HYPERLINK("http://evil.example","x")'
    assert by_id["C07"]["segment"] == "'=cmd|x"
    assert by_id["C01"]["days_to_birthday"] == "-3"  # a number, not text
    assert result.neutralised_cells == 2
    # Parquet is for tools: values as the warehouse holds them.
    parquet = pq.read_table(result.folder / "email.parquet").to_pylist()
    assert parquet[1]["given_name"] == '=HYPERLINK("http://evil.example","x")'


def test_cp932_dm_file_replaces_and_counts_unencodable_characters(handmade):
    conn, audience, export_dir = handmade
    result = _export(conn, audience, "dm", export_dir)
    rows = _read_csv(result.folder / "dm.cp932.csv", "cp932")
    assert rows[0]["family_name"] == "山田" and rows[0]["address_line1"] == "千代田1-1-01"
    assert rows[1]["family_name"] == REPLACEMENT + "田"
    assert _read_csv(result.folder / "dm.csv")[1]["family_name"] == "𠮷田"
    manifest = json.loads(result.manifest_path.read_text(encoding="utf-8"))
    assert manifest["replaced_characters"] == result.replaced_characters == 1
    assert manifest["customers_with_replaced_characters"] == ["C07"]


def test_bom_option_and_private_permissions(handmade):
    conn, audience, export_dir = handmade
    result = _export(conn, audience, "email", export_dir, options=ExportOptions(csv_bom=True))
    assert (result.folder / "email.csv").read_bytes().startswith(b"\xef\xbb\xbfcustomer_id,")
    assert ExportOptions.from_env({"CRM_EXPORT_CSV_BOM": "1"}).csv_bom
    assert not ExportOptions.from_env({}).csv_bom
    for path in result.files.values():
        assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert stat.S_IMODE(result.folder.stat().st_mode) == 0o750
    assert stat.S_IMODE(result.folder.parent.stat().st_mode) == 0o750
    assert not [p for p in result.folder.iterdir() if p.name.startswith(".")]


def test_an_empty_audience_gives_header_only_files(handmade):
    conn, audience, export_dir = handmade
    conn.execute("create table audiences.nobody as select 'x' as customer_id limit 0")
    nobody = Audience(**{**audience.__dict__, "name": "nobody", "identifier": "nobody"})
    result = _export(conn, nobody, "dm", export_dir)
    assert result.exported == 0 and [n for _, n in result.funnel] == [0] * len(STEPS)
    assert (result.folder / "dm.cp932.csv").read_bytes().count(b"\r\n") == 1
    assert pq.read_table(result.folder / "dm.parquet").num_rows == 0


def test_an_audience_with_duplicate_customers_is_refused(handmade):
    conn, audience, export_dir = handmade
    conn.execute("insert into audiences.handmade values ('C01', 's1_top', 0)")
    with pytest.raises(ExportDataError, match="duplicate customer_id"):
        _export(conn, audience, "email", export_dir)


def test_rerun_gives_identical_bytes_and_replaces_history(handmade):
    conn, audience, export_dir = handmade
    audience = Audience(**{**audience.__dict__, "holdout_share": 0.5})
    first = _export(conn, audience, "email", export_dir)
    before = {name: path.read_bytes() for name, path in first.files.items()}
    second = _export(conn, audience, "email", export_dir)
    assert {name: path.read_bytes() for name, path in second.files.items()} == before
    manifest = json.loads(second.manifest_path.read_text(encoding="utf-8"))
    for entry in manifest["files"]:
        assert entry["bytes"] == len(before[entry["name"]])
    history = conn.execute(
        "select customer_id, is_holdout, file_name from exports.export_history order by 1"
    ).fetchall()
    expected_held = {cid for cid in ("C01", "C07") if is_held_out("handmade", cid, 0.5)}
    assert history == [
        (cid, cid in expected_held, f"{AS_OF}/handmade/email.csv") for cid in ("C01", "C07")
    ]
    exported = [r["customer_id"] for r in _read_csv(second.folder / "email.csv")]
    assert set(exported) == {"C01", "C07"} - expected_held


# --------------------------------------------------------------------------------------------
# The generated shop (tests/python/conftest.py): the nightly run ends with the exports


def _audiences() -> list[Audience]:
    from orchestration.dbt_project import dbt_project

    return discover_audiences(dbt_project.manifest_path)


def _connect(settings, read_only: bool = True) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(settings.build_path), read_only=read_only)


def _exported_files(settings) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in sorted(settings.export_dir.rglob("*")) if p.is_file()}


@pytest.mark.slow
def test_every_audience_and_channel_has_its_files_and_manifest(shop):
    settings, result = shop
    audiences = _audiences()
    assert len(audiences) >= 7
    materialized = {
        tuple(e.asset_key.path) for e in result.get_asset_materialization_events()
        if e.asset_key.path[0] == "exports" and len(e.asset_key.path) == 3
    }  # fmt: skip
    for audience in audiences:
        for channel in audience.channels:
            assert ("exports", audience.name, channel) in materialized
            folder = settings.export_dir / AS_OF.isoformat() / audience.name
            manifest = json.loads((folder / f"{channel}.manifest.json").read_text("utf-8"))
            assert manifest["audience"] == audience.name and manifest["channel"] == channel
            assert [s["step"] for s in manifest["funnel"]] == list(STEPS)
            counts = [s["rows"] for s in manifest["funnel"]]
            assert counts == sorted(counts, reverse=True)
            assert manifest["exported_rows"] + manifest["held_out_rows"] == counts[-1]
            for entry in manifest["files"]:
                path = folder / entry["name"]
                assert path.stat().st_size == entry["bytes"]
                assert entry["rows"] == manifest["exported_rows"]
    assert (
        sum(
            json.loads(p.read_text("utf-8"))["exported_rows"]
            for p in settings.export_dir.rglob("*.manifest.json")
        )
        > 0
    )


def _national_number(phone: object) -> str:
    """A phone number as its Japanese national number without the trunk 0 ("" if not Japanese)."""
    text = re.sub(r"[^0-9+]", "", unicodedata.normalize("NFKC", str(phone or "")))
    if text.startswith("+81"):
        text = text[3:]
    elif text.startswith("+"):
        return ""
    return text[1:] if text.startswith("0") else text


def _members(settings) -> pd.DataFrame:
    """Members and their suppressions per channel, worked out here from staging."""
    with _connect(settings) as conn:
        members = conn.execute("select * from staging.stg_shop__members").df()
        suppressions = conn.execute("select * from staging.stg_shop__suppressions").df()
    for channel in ("email", "sms", "dm"):
        addresses = suppressions.loc[suppressions["channel"] == channel, "address"]
        hit = members["customer_id"].isin(set(addresses))
        if channel == "email":
            emails = set(addresses.str.strip().str.lower())
            hit |= members["email"].fillna("").str.strip().str.lower().isin(emails)
        if channel == "sms":
            numbers = {_national_number(a) for a in addresses} - {""}
            hit |= members["phone"].map(_national_number).isin(numbers)
        members[f"{channel}_suppressed"] = hit
    return members.set_index("customer_id")


@pytest.mark.slow
def test_no_unreachable_member_is_ever_exported(shop):
    settings, _ = shop
    members = _members(settings)
    checked = 0
    for audience in _audiences():
        for channel in audience.channels:
            folder = settings.export_dir / AS_OF.isoformat() / audience.name
            rows = pd.read_csv(folder / f"{channel}.csv", dtype=str, keep_default_na=False)
            assert rows["customer_id"].is_unique
            member = members.loc[rows["customer_id"]]
            assert not member["is_withdrawn"].any()
            assert member[f"is_{channel}_opt_in"].all()
            assert not member[f"{channel}_suppressed"].any()
            if channel == "email":
                assert rows["email"].str.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+").all()
                assert rows["email"].str.lower().is_unique
            elif channel == "sms":
                assert rows["phone_e164"].str.fullmatch(r"\+81[1-9]\d{8,9}").all()
                assert rows["phone_e164"].is_unique
            else:
                assert rows["postal_code"].str.fullmatch(r"\d{3}-\d{4}").all()
                assert (rows[["prefecture", "city", "address_line1"]] != "").all().all()
                address = rows[["postal_code", "prefecture", "city", "address_line1",
                                "address_line2"]].apply("|".join, axis=1)  # fmt: skip
                assert address.is_unique
            checked += len(rows)
    assert checked > 0


@pytest.mark.slow
def test_cp932_dm_file_decodes_to_the_members_names_and_addresses(shop):
    settings, _ = shop
    with _connect(settings) as conn:
        contacts = conn.execute("select * from exports.export_contacts").df()
    contacts = contacts.set_index("customer_id")
    dm_files = sorted(settings.export_dir.glob(f"{AS_OF}/*/dm.cp932.csv"))
    assert dm_files
    seen = 0
    for path in dm_files:
        rows = _read_csv(path, "cp932")
        for row in rows:
            member = contacts.loc[row["customer_id"]]
            for column in ("family_name", "given_name", "prefecture", "city", "address_line1"):
                assert row[column] == to_cp932_text(member[column] or "")[0]
            assert row["postal_code"] == member["postal_code"]
            seen += 1
    assert seen > 0
    assert any(any(ord(ch) > 0x3000 for ch in path.read_bytes().decode("cp932"))
               for path in dm_files)  # fmt: skip


@pytest.mark.slow
def test_rerunning_the_exports_gives_identical_files_and_no_duplicate_history(shop):
    from orchestration.definitions import build_definitions

    settings, _ = shop
    before = _exported_files(settings)
    with _connect(settings) as conn:
        history_before = conn.execute("select count(*) from exports.export_history").fetchall()
    job = build_definitions(settings).resolve_job_def("exports")
    with dg.DagsterInstance.ephemeral() as instance:
        assert job.execute_in_process(instance=instance).success
    assert _exported_files(settings) == before
    with _connect(settings) as conn:
        assert conn.execute("select count(*) from exports.export_history").fetchall() == (
            history_before
        )
        duplicates = conn.execute(
            """
            select count(*) from (
                select audience, channel, export_date, customer_id
                from exports.export_history
                group by all having count(*) > 1
            )
            """
        ).fetchall()
    assert duplicates == [(0,)]


@pytest.mark.slow
def test_holdout_is_deterministic_and_close_to_the_share(shop):
    settings, _ = shop
    with _connect(settings) as conn:
        history = conn.execute(
            "select audience, channel, customer_id, is_holdout from exports.export_history "
            f"where export_date = date '{AS_OF}'"
        ).df()
    shares = {a.name: a.holdout_share for a in _audiences()}
    assert len(history) > 0
    expected = [
        is_held_out(a, cid, shares[a])
        for a, cid in zip(history["audience"], history["customer_id"], strict=True)
    ]
    assert history["is_holdout"].tolist() == expected
    # Over all audiences the share is within three standard errors of the configured one.
    rate = history["is_holdout"].mean()
    average_share = sum(shares[a] for a in history["audience"]) / len(history)
    sigma = (average_share * (1 - average_share) / len(history)) ** 0.5
    assert abs(rate - average_share) < 3 * sigma
    for (audience, channel), group in history.groupby(["audience", "channel"]):
        folder = settings.export_dir / AS_OF.isoformat() / audience
        exported = set(pd.read_csv(folder / f"{channel}.csv", dtype=str)["customer_id"])
        assert exported == set(group.loc[~group["is_holdout"], "customer_id"])


@pytest.fixture
def warehouse_copy(shop, tmp_path: Path):
    """The shop's warehouse copied, so a test may change data without touching the others."""
    settings, _ = shop
    root = tmp_path / "copy"
    root.mkdir()
    copy_warehouse(settings.build_path, root / "warehouse.build.duckdb")
    return settings_for(root, settings.landing_dir)


@pytest.mark.slow
def test_unencodable_characters_and_formulas_in_real_members_are_handled(warehouse_copy):
    settings = warehouse_copy
    audience = next(a for a in _audiences() if "dm" in a.channels)
    from orchestration.dbt_project import dbt_project

    contacts = contacts_relation(json.loads(dbt_project.manifest_path.read_text("utf-8")))
    with _connect(settings, read_only=False) as conn:
        conn.execute(
            f"""
            update {contacts}
            set family_name = '𠮷' || family_name || '😀',
                given_name = '=HYPERLINK("http://evil.example","x")'
            where customer_id in (select customer_id from {audience.relation})
            """
        )
        result = export_audience(
            conn,
            audience,
            "dm",
            contacts_relation=contacts,
            export_dir=settings.export_dir,
            as_of_date=AS_OF,
            options=ExportOptions(),
        )
    assert result.exported > 0
    assert result.replaced_characters == 2 * result.exported
    rows = _read_csv(result.folder / "dm.cp932.csv", "cp932")
    assert all(r["family_name"].startswith(REPLACEMENT) for r in rows)
    assert all(r["family_name"].endswith(REPLACEMENT) for r in rows)
    assert all(r["given_name"].startswith("'=HYPERLINK") for r in rows)
    manifest = json.loads(result.manifest_path.read_text("utf-8"))
    assert manifest["replaced_characters"] == 2 * result.exported
    assert len(manifest["customers_with_replaced_characters"]) == result.exported


_NEW_AUDIENCE_SQL = """\
select customer_id, lifecycle_stage
from {{ ref('customer_lifecycle') }}
where lifecycle_stage in ('repeat', 'loyal')
"""


@pytest.mark.slow
def test_a_new_audience_is_one_sql_file_and_one_yml_entry(warehouse_copy, tmp_path: Path):
    from dagster_dbt import dbt_assets

    from orchestration.assets.exports import build_export_assets

    settings = warehouse_copy
    project = tmp_path / "project"
    ignored = shutil.ignore_patterns(
        ".venv", "target", "data", "logs", ".git", "__pycache__", "*.duckdb*", ".*cache"
    )

    def ignore(folder: str, names: list[str]) -> set[str]:
        # the benchmark's working files (tens of GB where `make bench` ran) are not the project
        bench_work = {"work"} if Path(folder) == REPO / "benchmarks" else set()
        return set(ignored(folder, names)) | bench_work

    shutil.copytree(REPO, project, ignore=ignore)
    audiences_dir = project / "models" / "audiences"
    (audiences_dir / "repeat_and_loyal.sql").write_text(_NEW_AUDIENCE_SQL, encoding="utf-8")
    yml_path = audiences_dir / "_audiences__models.yml"
    spec = yaml.safe_load(yml_path.read_text(encoding="utf-8"))
    spec["models"].append(
        {
            "name": "repeat_and_loyal",
            "description": "Repeat and loyal customers.",
            "config": {
                "meta": {
                    "audience": {
                        "channels": ["email", "dm"],
                        "description": "Thank-you mail and DM",
                        "owner": "crm-team",
                        "holdout_share": 0.2,
                    }
                }
            },
        }
    )
    yml_path.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    completed = run_dbt(
        project,
        tmp_path,
        settings.as_env(),
        "build",
        "--select",
        "repeat_and_loyal",
        "--vars",
        json.dumps({"as_of_date": AS_OF.isoformat()}),
    )
    assert completed.returncode == 0, completed.stdout[-3000:]
    target = tmp_path / "target"
    manifest = target / "manifest.json"
    new = next(a for a in discover_audiences(manifest) if a.name == "repeat_and_loyal")
    assert new.channels == ("email", "dm") and new.holdout_share == 0.2

    @dbt_assets(manifest=manifest, name="copied_project")
    def copied_project(): ...

    keys = {key for asset in build_export_assets(manifest, copied_project) for key in asset.keys}
    assert dg.AssetKey(["exports", "repeat_and_loyal", "email"]) in keys
    assert dg.AssetKey(["exports", "repeat_and_loyal", "dm"]) in keys
    with _connect(settings, read_only=False) as conn:
        for channel in new.channels:
            result = export_audience(
                conn,
                new,
                channel,
                contacts_relation=contacts_relation(manifest),
                export_dir=settings.export_dir,
                as_of_date=AS_OF,
            )
            assert result.exported > 0
            assert (result.folder / f"{channel}.csv").exists()
            assert result.folder == settings.export_dir / str(AS_OF) / "repeat_and_loyal"
        history = conn.execute(
            "select channel, count(*) from exports.export_history "
            "where audience = 'repeat_and_loyal' group by channel order by channel"
        ).fetchall()
    assert [channel for channel, _ in history] == ["dm", "email"]
