"""A warehouse belongs to one shop: the build database records the landing root it is built
from (and ``CRM_SHOP_ID`` when set) and refuses to load another shop's files into it.

Without this, a second shop run with another ``CRM_LANDING_DIR`` but the default
``CRM_WAREHOUSE_PATH`` is merged silently into the first (e.g. the demo shop's fake members
exported beside the real ones). Rules (``raw._warehouse_owner``, one row):

* no row yet (a new warehouse, or one built before this table existed): the run claims it;
* both shop ids set: the same id is the same shop (a moved landing folder is accepted and the
  new root recorded), another id is refused;
* otherwise the landing roots (resolved absolute paths) must be the same;
* ``CRM_ADOPT_LANDING=1``: this landing root and shop id now feed this warehouse (recorded).

A refused run loads nothing: ``make run`` exits 2, the Dagster load assets fail without retry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from crm.settings import SettingsError, shop_now

OWNER_TABLE = "raw._warehouse_owner"


class WarehouseOwnedElsewhere(SettingsError):
    """The warehouse was built from another landing root or shop."""


@dataclass(frozen=True)
class Claim:
    """Who this run says feeds the warehouse."""

    landing_dir: Path
    shop_id: str | None = None
    adopt: bool = False

    @property
    def root(self) -> str:
        return str(Path(self.landing_dir).expanduser().resolve())


@dataclass(frozen=True)
class Owner:
    """The row of ``raw._warehouse_owner``."""

    landing_dir: str
    shop_id: str | None
    claimed_at: datetime
    how: str


def read_owner(conn: duckdb.DuckDBPyConnection) -> Owner | None:
    """The recorded owner, or None for a warehouse nobody claimed yet."""
    found = conn.execute(
        "select count(*) from information_schema.tables "
        "where table_schema = 'raw' and table_name = '_warehouse_owner'"
    ).fetchone()
    if not (found and found[0]):
        return None
    row = conn.execute(
        f"select landing_dir, shop_id, claimed_at, how from {OWNER_TABLE} "
        "order by claimed_at desc limit 1"
    ).fetchone()
    return Owner(*row) if row else None


def _same_shop(owner: Owner, claim: Claim) -> bool:
    if owner.shop_id and claim.shop_id:
        return owner.shop_id == claim.shop_id
    return owner.landing_dir == claim.root


def refusal(owner: Owner, claim: Claim, build_path: Path | str) -> str:
    """What a refused run says: both roots (and shop ids) and the two ways on."""

    def who(root: str, shop_id: str | None) -> str:
        return f"{root}" + (f" (CRM_SHOP_ID={shop_id})" if shop_id else "")

    return (
        f"this warehouse belongs to another shop: {build_path} was built from the landing "
        f"area {who(owner.landing_dir, owner.shop_id)} (since {owner.claimed_at:%Y-%m-%d %H:%M} "
        f"Asia/Tokyo), but this run reads {who(claim.root, claim.shop_id)}. Nothing was "
        "loaded. To build a separate warehouse for this landing area, set CRM_WAREHOUSE_PATH "
        "to another file; if this landing area now feeds this warehouse (the same shop, moved), "
        "run once with CRM_ADOPT_LANDING=1"
        + (f" (or set CRM_SHOP_ID={owner.shop_id} if it is that shop)." if owner.shop_id else ".")
    )


def check_owner(conn: duckdb.DuckDBPyConnection, claim: Claim, build_path: Path | str) -> None:
    """Raise :class:`WarehouseOwnedElsewhere` if the claim would be refused (reads only)."""
    owner = read_owner(conn)
    if owner is not None and not claim.adopt and not _same_shop(owner, claim):
        raise WarehouseOwnedElsewhere(refusal(owner, claim, build_path))


def claim_warehouse(conn: duckdb.DuckDBPyConnection, claim: Claim, build_path: Path | str) -> str:
    """Claim the warehouse for this landing root, or raise :class:`WarehouseOwnedElsewhere`.

    Returns what happened: ``claimed`` (first run), ``owner`` (nothing to change), ``moved``
    (same shop id, new root recorded), ``named`` (a shop id recorded for the same root),
    ``adopted`` (CRM_ADOPT_LANDING=1)."""
    owner = read_owner(conn)
    if owner is None:
        how = "claimed"
    else:
        same = _same_shop(owner, claim)
        if not same and not claim.adopt:
            raise WarehouseOwnedElsewhere(refusal(owner, claim, build_path))
        if same and owner.landing_dir == claim.root and claim.shop_id in (None, owner.shop_id):
            return "owner"
        how = "adopted" if not same else "moved" if owner.landing_dir != claim.root else "named"
    conn.execute("create schema if not exists raw")
    conn.execute(
        f"create table if not exists {OWNER_TABLE} ("
        "landing_dir varchar not null, shop_id varchar, claimed_at timestamp not null, "
        "how varchar not null)"
    )
    conn.execute("begin transaction")
    try:
        conn.execute(f"delete from {OWNER_TABLE}")
        conn.execute(
            f"insert into {OWNER_TABLE} values (?, ?, ?, ?)",
            [claim.root, claim.shop_id, shop_now(), how],
        )
        conn.execute("commit")
    except BaseException:
        conn.execute("rollback")
        raise
    return how


def check_build_file(build_path: Path, claim: Claim) -> None:
    """The early check of ``make run``: refuse before anything runs. A build database that
    does not exist yet is claimed by its first load; one locked by another writer is checked
    by the load steps instead."""
    if not build_path.is_file():
        return
    try:
        conn = duckdb.connect(str(build_path), read_only=True)
    except duckdb.IOException:
        return
    try:
        check_owner(conn, claim, build_path)
    finally:
        conn.close()
