"""Members (会員): demographics, Japanese names and addresses, contact data, consent, ranks.

All draws are vectorised over the customers of a chunk. Identifiers that must be unique
across chunks (customer ids, e-mail addresses, phone numbers) are derived from the global
customer index with bijections, so they never collide.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from crm.demo import vocab
from crm.demo.columns import (
    NEVER,
    base36,
    bools,
    categorical,
    codes,
    dates,
    digits,
    join,
    lookup,
    pick_weighted,
    scramble,
    timestamps,
    with_nulls,
)
from crm.demo.params import ShopParams

GENDERS: tuple[str, ...] = ("female", "male", "other", "unknown")
GENDER_WEIGHTS: tuple[float, ...] = (0.60, 0.34, 0.01, 0.05)
#: Age at registration: normal(mean, sd) clipped to [18, 78].
AGE_MEAN, AGE_SD = 43.0, 13.0
#: Share of members with a building/room in address_line2.
BUILDING_SHARE = 0.35
#: Share of members who changed their profile at some point (a later updated_at).
PROFILE_UPDATE_SHARE = 0.4


def customer_ids(global_index: np.ndarray) -> pa.Array:
    return codes("C", global_index + 1, 8)


@dataclass(frozen=True)
class Demographics:
    gender: np.ndarray  # index into GENDERS
    birth_days: np.ndarray  # days since 1970-01-01
    birth_month: np.ndarray  # 1..12


def draw_demographics(rng: np.random.Generator, registered_at: np.ndarray) -> Demographics:
    n = len(registered_at)
    gender = pick_weighted(rng, GENDER_WEIGHTS, n)
    age = np.clip(rng.normal(AGE_MEAN, AGE_SD, n), 18, 78)
    birth_days = registered_at // 86_400 - (age * 365.25).astype(np.int64) - rng.integers(0, 365, n)
    birth_month = (
        birth_days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) % 12 + 1
    )
    return Demographics(gender, birth_days, birth_month)


@dataclass(frozen=True)
class MemberState:
    """What the order and web simulation decided about each member."""

    global_index: np.ndarray
    registered_at: np.ndarray
    rank: np.ndarray  # index into ShopParams.rank_thresholds
    withdrawn_at: np.ndarray  # NEVER when still a member


@dataclass(frozen=True)
class MemberRecords:
    """Member rows plus the change times that version them (for daily tail files)."""

    columns: dict[str, pa.Array]
    registered_at: np.ndarray
    withdrawn_at: np.ndarray
    profile_updated_at: np.ndarray
    email: pa.Array
    phone: pa.Array
    phone_valid: np.ndarray


def _names(rng: np.random.Generator, gender: np.ndarray) -> dict[str, pa.Array]:
    n = len(gender)
    fam = vocab.FAMILY_NAMES
    fam_w = 1.0 / np.arange(1, len(fam) + 1) ** 0.6
    fi = pick_weighted(rng, fam_w, n)
    female, male = vocab.FEMALE_GIVEN_NAMES, vocab.MALE_GIVEN_NAMES
    given = female + male
    is_female = (gender == 0) | ((gender >= 2) & (rng.random(n) < 0.5))
    gi = np.where(
        is_female,
        rng.integers(0, len(female), n),
        len(female) + rng.integers(0, len(male), n),
    )
    return {
        "family_name": lookup([f[0] for f in fam], fi),
        "family_name_kana": lookup([f[1] for f in fam], fi),
        "family_romaji": lookup([f[2] for f in fam], fi),
        "given_name": lookup([g[0] for g in given], gi),
        "given_name_kana": lookup([g[1] for g in given], gi),
        "given_romaji": lookup([g[2] for g in given], gi),
    }


def _addresses(rng: np.random.Generator, n: int, params: ShopParams) -> dict[str, pa.Array]:
    prefs = vocab.PREFECTURES
    pi = pick_weighted(rng, [p[1] for p in prefs], n)
    n_cities = np.array([len(p[3]) for p in prefs])
    city_start = np.concatenate([[0], np.cumsum(n_cities)[:-1]])
    ci = city_start[pi] + (rng.random(n) * n_cities[pi]).astype(np.int64)
    lo = np.array([p[2][0] for p in prefs])
    hi = np.array([p[2][1] for p in prefs])
    p3 = lo[pi] + (rng.random(n) * (hi[pi] - lo[pi] + 1)).astype(np.int64)
    p4 = rng.integers(0, 10_000, n)
    form = rng.random(n)
    no_hyphen = form < params.postal_no_hyphen_share
    missing = form > 1 - params.postal_missing_share
    postal = pc.if_else(
        pa.array(no_hyphen),
        join(digits(p3, 3), digits(p4, 4)),
        join(digits(p3, 3), "-", digits(p4, 4)),
    )
    line1 = join(
        lookup(vocab.TOWNS, rng.integers(0, len(vocab.TOWNS), n)),
        digits(rng.integers(1, 6, n), 1),
        "-",
        digits(rng.integers(1, 31, n), 1),
        "-",
        digits(rng.integers(1, 21, n), 1),
    )
    building = join(
        lookup(vocab.BUILDING_PREFIXES, rng.integers(0, len(vocab.BUILDING_PREFIXES), n)),
        lookup(vocab.BUILDING_SUFFIXES, rng.integers(0, len(vocab.BUILDING_SUFFIXES), n)),
        " ",
        digits(rng.integers(1, 13, n), 1),
        digits(rng.integers(1, 9, n), 2),
    )
    return {
        "postal_code": with_nulls(postal, ~missing),
        "prefecture": lookup([p[0] for p in prefs], pi),
        "city": lookup([c for p in prefs for c in p[3]], ci),
        "address_line1": line1,
        "address_line2": with_nulls(building, rng.random(n) < BUILDING_SHARE),
    }


def _share_households(rng: np.random.Generator, cols: dict[str, pa.Array], share: float) -> None:
    """Let a share of members live with another member (same address and family name)."""
    n = len(cols["prefecture"])
    if n < 2:
        return
    joins = rng.random(n) < share
    heads = np.flatnonzero(~joins)
    source = np.arange(n)
    source[joins] = heads[rng.integers(0, len(heads), int(joins.sum()))]
    take = pa.array(source)
    for name in (
        "family_name",
        "family_name_kana",
        "family_romaji",
        "postal_code",
        "prefecture",
        "city",
        "address_line1",
        "address_line2",
    ):
        cols[name] = pc.take(cols[name], take)


def _phones(
    rng: np.random.Generator, global_index: np.ndarray, params: ShopParams
) -> tuple[pa.Array, np.ndarray]:
    n = len(global_index)
    number = scramble(global_index, 100_000_000, 48_271_057, 37_016_239)
    prefix = lookup(("090", "080", "070"), pick_weighted(rng, (0.5, 0.4, 0.1), n))
    a, b = digits(number // 10_000, 4), digits(number % 10_000, 4)
    canonical = join(prefix, "-", a, "-", b)
    u = rng.random(n)
    missing = u < params.phone_missing_share
    malformed = (u >= params.phone_missing_share) & (
        u < params.phone_missing_share + params.phone_malformed_share
    )
    kind = rng.integers(0, 3, n)
    no_hyphen = join(prefix, a, b)
    truncated = join(prefix, "-", a, "-", pc.utf8_slice_codeunits(b, 0, 3))
    full_width = canonical
    for ch in "0123456789":
        full_width = pc.replace_substring(full_width, ch, chr(ord("０") + int(ch)))
    full_width = pc.replace_substring(full_width, "-", "－")
    bad = pc.case_when(
        pc.make_struct(pa.array(kind == 0), pa.array(kind == 1)), no_hyphen, truncated, full_width
    )
    phone = with_nulls(pc.if_else(pa.array(malformed), bad, canonical), ~missing)
    return phone, ~(missing | malformed)


def _emails(
    rng: np.random.Generator,
    global_index: np.ndarray,
    given: pa.Array,
    family: pa.Array,
    params: ShopParams,
) -> pa.Array:
    n = len(global_index)
    code = base36(scramble(global_index, 36**5, 16_777_259, 21_436_587), 5)
    domain = lookup(
        [d for d, _ in vocab.EMAIL_DOMAINS],
        pick_weighted(rng, [w for _, w in vocab.EMAIL_DOMAINS], n),
    )
    pattern = rng.integers(0, 3, n)
    local = pc.case_when(
        pc.make_struct(pa.array(pattern == 0), pa.array(pattern == 1)),
        join(given, ".", family, ".", code),
        join(family, "_", given, code),
        join(given, pc.utf8_slice_codeunits(family, 0, 1), "-", code),
    )
    email = join(local, "@", domain)
    return with_nulls(email, rng.random(n) >= params.email_missing_share)


def build_members(
    rng: np.random.Generator, state: MemberState, demo: Demographics, end_s: int, params: ShopParams
) -> MemberRecords:
    """Member columns (final state) and their version times."""
    n = len(state.global_index)
    cols = _names(rng, demo.gender)
    cols.update(_addresses(rng, n, params))
    _share_households(rng, cols, params.household_share)
    email = _emails(
        rng, state.global_index, cols.pop("given_romaji"), cols.pop("family_romaji"), params
    )
    phone, phone_valid = _phones(rng, state.global_index, params)
    updated = rng.random(n) < PROFILE_UPDATE_SHARE
    profile_at = state.registered_at + (rng.random(n) * (end_s - state.registered_at)).astype(
        np.int64
    )
    profile_at = np.where(updated & (profile_at > state.registered_at), profile_at, NEVER)
    ranks = [r for r, _ in params.rank_thresholds]
    out: dict[str, pa.Array] = {
        "customer_id": customer_ids(state.global_index),
        "email": email,
        "phone": phone,
        **cols,
        "gender": categorical(GENDERS, demo.gender),
        "birth_date": dates(demo.birth_days),
        "member_rank": categorical(ranks, state.rank),
        "email_opt_in": bools(rng.random(n) < params.email_opt_in_share),
        "sms_opt_in": bools(rng.random(n) < params.sms_opt_in_share),
        "dm_opt_in": bools(rng.random(n) < params.dm_opt_in_share),
    }
    return MemberRecords(
        out, state.registered_at, state.withdrawn_at, profile_at, email, phone, phone_valid
    )


def member_table(rec: MemberRecords, rows: np.ndarray, cutoff: int) -> pa.Table:
    """Member rows ``rows`` as they were at ``cutoff`` (withdrawal and updates up to it)."""
    take = pa.array(rows)
    reg = rec.registered_at[rows]
    wd = rec.withdrawn_at[rows]
    prof = rec.profile_updated_at[rows]
    wd_known = wd <= cutoff
    updated = np.maximum(
        reg, np.maximum(np.where(wd_known, wd, reg), np.where(prof <= cutoff, prof, reg))
    )
    cols = {name: pc.take(col, take) for name, col in rec.columns.items()}
    cols["registered_at"] = timestamps(reg)
    cols["withdrawn_at"] = timestamps(wd, wd_known)
    cols["updated_at"] = timestamps(updated)
    return pa.table(cols)
