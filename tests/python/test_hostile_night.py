"""A hostile night, end to end: every export file is checked against the raw members and
suppressions landing files by an independent reading of them (pandas, not the loader).

Night 1 is a clean generated shop. Before night 2 the shop lands what issue 20 saw slip
through: opt-outs in rows rejected for an unrelated field, an opt-out without updated_at,
suppressions for `all` or an unknown channel, an SMS number as E.164 without `+`, an e-mail
with a zero-width space, a free-text reason, a second account sharing an e-mail, a second
account sharing a household, and a 10 MB name. The targets are chosen among the people
night 1 exported, so each would be exported again without the rules.
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from crm.exports.consent import consent_holds
from tests.python.conftest import settings_for

NIGHT_1 = date(2025, 4, 2)
NIGHT_2 = date(2025, 4, 3)
CHANNELS = ("email", "sms", "dm")
#: Audiences whose members barely move from one day to the next (early in a term, so the
#: catalogue DM audience of the top segments is not empty yet).
STABLE_AUDIENCES = ("gold_early_access", "top_segments_not_purchased", "product_repeaters",
                    "win_back_lapsed_visitors", "birthday_month")  # fmt: skip
TRUE = {"true", "1", "yes", "y"}
INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00a0\\s]")
HUGE = 10_000_000


def _email_key(text: str) -> str:
    return INVISIBLE.sub("", unicodedata.normalize("NFKC", text)).lower()


def _phone_key(text: str) -> str:
    digits = re.sub(r"\D", "", unicodedata.normalize("NFKC", text))
    if digits.startswith("81") and len(digits) in (11, 12):
        digits = "0" + digits[2:]
    return digits


def _address_key(*parts: str) -> str:
    text = unicodedata.normalize("NFKC", "".join(parts))
    return re.sub(r"[\s〒\-ー－]", "", text)


def _read_feed(folder: Path) -> pd.DataFrame:
    frames = []
    for path in sorted(folder.glob("*.csv")):
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = raw.decode("cp932")
        frames.append(pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False))
    return pd.concat(frames, ignore_index=True)


def _exported(export_dir: Path, night: date) -> dict[str, dict[str, list[dict[str, str]]]]:
    """audience → channel → rows of its UTF-8 CSV."""
    found: dict[str, dict[str, list[dict[str, str]]]] = {}
    for path in sorted((export_dir / night.isoformat()).glob("*/*.csv")):
        if path.name.count(".") > 1:  # the CP932 copy
            continue
        text = path.read_text(encoding="utf-8-sig")
        rows = list(csv.DictReader(io.StringIO(text, newline="")))
        found.setdefault(path.parent.name, {})[path.stem] = rows
    return found


def _pick(candidates: list[str], taken: set[str]) -> str:
    for cid in candidates:
        if cid not in taken:
            taken.add(cid)
            return cid
    raise AssertionError("night 1 exported too few people to choose a target from")


@pytest.mark.slow
def test_a_hostile_night_exports_no_one_who_said_no(tmp_path: Path) -> None:
    from crm.demo import generate_shop
    from orchestration.run import run_nightly

    landing = tmp_path / "landing"
    generate_shop(landing, customers=200, days=400, end_date=NIGHT_1, seed=5)
    assert run_nightly(settings_for(tmp_path, landing, NIGHT_1), log_level="WARNING").success
    night_1 = _exported(tmp_path / "exports", NIGHT_1)
    by_channel: dict[str, list[str]] = {ch: [] for ch in CHANNELS}
    # the stable audiences' people first, then the others'
    for audience in [*STABLE_AUDIENCES, *(a for a in night_1 if a not in STABLE_AUDIENCES)]:
        for channel, rows in night_1.get(audience, {}).items():
            by_channel[channel] += [r["customer_id"] for r in rows]
    by_channel = {ch: list(dict.fromkeys(ids)) for ch, ids in by_channel.items()}

    members = _read_feed(landing / "members")
    assert members["customer_id"].is_unique  # one version each: "any row says no" is exact
    row_of = members.set_index("customer_id")
    taken: set[str] = set()
    a, b, c, h, i = (_pick(by_channel["email"], taken) for _ in range(5))
    d, g = _pick(by_channel["email"], taken), _pick(by_channel["email"], taken)
    e = _pick(by_channel["email"] + by_channel["sms"] + by_channel["dm"], taken)
    f = _pick(by_channel["sms"], taken)
    j = _pick(by_channel["dm"], taken)

    def version(cid: str, **changes: str) -> dict[str, str]:
        row = {"customer_id": cid, **row_of.loc[cid].to_dict()}
        row["updated_at"] = f"{NIGHT_2} 10:00:00"
        row.update(changes)
        return row

    no = {"email_opt_in": "false", "sms_opt_in": "false", "dm_opt_in": "false"}
    new_account = {column: "" for column in members.columns}
    new_account.update(registered_at=f"{NIGHT_2} 09:00:00", gender="unknown", **no)
    hostile_members = [
        version(a, birth_date="1990-02-30", **no),  # opt-out in a row rejected for its birth date
        version(b, gender="x", **no),  # ... for an unknown gender
        version(c, updated_at="", **no),  # an opt-out without updated_at
        {**new_account, "customer_id": "CX0000001", "email": row_of.loc[h, "email"].upper()},
        {
            **new_account,
            "customer_id": "CX0000002",
            **{k: row_of.loc[j, k] for k in ("postal_code", "prefecture", "city")},
            **{k: row_of.loc[j, k] for k in ("address_line1", "address_line2")},
        },
        version(i, family_name="x" * HUGE),
        # the rest of the file: unchanged members (the file's reject share stays under 20 %)
        *[version(cid) for cid in members["customer_id"] if cid not in taken][:30],
    ]
    pd.DataFrame(hostile_members, columns=members.columns).to_csv(
        landing / "members" / "members_hostile.csv", index=False
    )
    national = re.sub(r"\D", "", row_of.loc[f, "phone"])
    email_g = row_of.loc[g, "email"]
    pd.DataFrame(
        [
            ("all", row_of.loc[d, "email"], f"{NIGHT_2} 08:00:00", "お客様より電話"),
            ("fax", e, f"{NIGHT_2} 08:00:00", "本人申し出"),
            ("sms", "81" + national[1:], f"{NIGHT_2} 08:00:00", "STOP"),
            ("email", email_g[0] + "\u200b" + email_g[1:], f"{NIGHT_2} 08:00:00", "苦情"),
        ],
        columns=["channel", "address", "suppressed_at", "reason"],
    ).to_csv(landing / "suppressions" / "suppressions_hostile.csv", index=False)

    settings = settings_for(tmp_path, landing, NIGHT_2)
    assert run_nightly(settings, log_level="WARNING").success
    night_2 = _exported(tmp_path / "exports", NIGHT_2)

    # The oracle: who said no, read from the landing files themselves.
    every_member = _read_feed(landing / "members")
    suppressions = _read_feed(landing / "suppressions")
    refused: dict[str, set[str]] = {ch: set() for ch in CHANNELS}
    for row in every_member.itertuples(index=False):
        for channel in CHANNELS:
            said_yes = getattr(row, f"{channel}_opt_in").strip().lower() in TRUE
            if not said_yes or row.withdrawn_at.strip():
                refused[channel].add(row.customer_id)
    for row in suppressions.itertuples(index=False):
        wanted = row.channel.strip().lower()
        channels = [wanted] if wanted in CHANNELS else list(CHANNELS)
        named = every_member[
            (every_member["customer_id"] == row.address.strip())
            | (every_member["email"].map(_email_key) == _email_key(row.address))
            | (every_member["phone"].map(_phone_key) == _phone_key(row.address))
        ]["customer_id"]
        for channel in channels:
            refused[channel].update(named)
    forbidden = {
        "email": {_email_key(v) for v in every_member[
            every_member["customer_id"].isin(refused["email"])]["email"] if v},
        "sms": {_phone_key(v) for v in every_member[
            every_member["customer_id"].isin(refused["sms"])]["phone"] if v},
        "dm": {_address_key(*r) for r in every_member[every_member["customer_id"].isin(
            refused["dm"])][["prefecture", "city", "address_line1", "address_line2"]].itertuples(
            index=False) if r[2]},
    }  # fmt: skip
    for target, channel in [(a, "email"), (b, "email"), (c, "email"), (d, "email"),
                            (f, "sms"), (g, "email"), (h, "email"), (j, "dm")]:  # fmt: skip
        assert target in refused[channel] or target in (h, j), target
    sent = 0
    for audience, files in night_2.items():
        for channel, rows in files.items():
            for row in rows:
                sent += 1
                assert row["customer_id"] not in refused[channel], (audience, channel, row)
                assert row["customer_id"] not in {a, b, e, i}, (audience, channel)
                assert all(len(value) <= 500 for value in row.values())
                if channel == "email":
                    assert _email_key(row["email"]) not in forbidden["email"], (audience, row)
                if channel == "sms":
                    assert _phone_key(row["phone_e164"]) not in forbidden["sms"], (audience, row)
                if channel == "dm":
                    key = _address_key(row["prefecture"], row["city"], row["address_line1"],
                                       row["address_line2"])  # fmt: skip
                    assert key not in forbidden["dm"], (audience, row)
    assert sent > 20  # the night still exports everyone else
    assert h not in {r["customer_id"] for files in night_2.values() for r in files.get("email", [])}
    assert j not in {r["customer_id"] for files in night_2.values() for r in files.get("dm", [])}

    # Who was held back is named: in the manifests, the summary's source and the alert log.

    with duckdb.connect(str(settings.build_path), read_only=True) as conn:
        holds = consent_holds(conn)
        audiences_of = {
            name: {cid for (cid,) in conn.execute(f"select customer_id from audiences.{name}")
                   .fetchall()}
            for name in night_2
        }  # fmt: skip
    assert {a, b} <= set(holds.customers) and c not in holds.customers
    # The targets are still in their audiences tonight: the rules, not the audiences, left
    # them out of the files.
    in_an_audience = set().union(*audiences_of.values())
    assert {a, b, c, d, g, i} <= in_an_audience
    for audience, members_of in audiences_of.items():
        for channel in night_2[audience]:
            manifest = json.loads(
                (
                    tmp_path / "exports" / str(NIGHT_2) / audience / f"{channel}.manifest.json"
                ).read_text(encoding="utf-8")
            )
            assert set(manifest["consent_uncertain_customers"]) == {a, b} & members_of
            too_long = {held["customer_id"] for held in manifest["held_back_too_long"]}
            if i in members_of and i not in refused[channel]:
                assert i in too_long
    alerts = (tmp_path / "alerts.log").read_text(encoding="utf-8")
    assert a in alerts and b in alerts and "members_hostile.csv" in alerts
    for secret in (row_of.loc[a, "email"], row_of.loc[d, "email"], "x" * 100):
        assert secret not in alerts
