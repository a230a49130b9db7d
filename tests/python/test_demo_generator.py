"""Tests of the demo-shop generator (crm.demo): determinism, contract, integrity, realism."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import re
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from crm.contract import FEEDS
from crm.demo import ShopParams, ShopSummary, generate_shop
from crm.demo.cli import main
from crm.demo.vocab import all_member_strings

END = date(2025, 12, 31)
DAYS = 400  # 2024-11-27 .. 2025-12-31: a whole year with July and December
ARGS = {"customers": 600, "days": DAYS, "end_date": END, "seed": 7}
END_TS = pd.Timestamp(END) + pd.Timedelta(days=1) - pd.Timedelta(seconds=1)
START_TS = pd.Timestamp(END - timedelta(days=DAYS - 1))
TAIL_DAYS = 3


# --- fixtures ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def csv_shop(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ShopSummary]:
    out = tmp_path_factory.mktemp("csv_shop")
    return out, generate_shop(out, file_format="csv", **ARGS)


@pytest.fixture(scope="module")
def pq_shop(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ShopSummary]:
    out = tmp_path_factory.mktemp("pq_shop")
    return out, generate_shop(out, file_format="parquet", **ARGS)


@pytest.fixture(scope="module")
def tail_shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("tail_shop")
    generate_shop(out, file_format="parquet", daily_tail_days=TAIL_DAYS, **ARGS)
    return out


@pytest.fixture(scope="module")
def feeds(pq_shop: tuple[Path, ShopSummary]) -> dict[str, pd.DataFrame]:
    return {feed: read_parquet_feed(pq_shop[0], feed) for feed in FEEDS}


# --- helpers ----------------------------------------------------------------------------------
def read_parquet_feed(root: Path, feed: str) -> pd.DataFrame:
    files = sorted((root / feed).glob("*.parquet"))
    return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)


def csv_text(path: Path) -> str:
    data = path.read_bytes()
    if path.name.endswith(".gz"):
        data = gzip.decompress(data)
    encoding = "cp932" if path.parent.name == "members" else "utf-8-sig"
    return data.decode(encoding)


def read_csv_feed(root: Path, feed: str) -> pd.DataFrame:
    frames = []
    for f in sorted((root / feed).iterdir()):
        encoding = "cp932" if feed == "members" else "utf-8-sig"
        frames.append(pd.read_csv(f, encoding=encoding, dtype=str, keep_default_na=False))
    return pd.concat(frames, ignore_index=True)


def tree_digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def timestamp_columns(feed: str) -> list[str]:
    return [c.name for c in FEEDS[feed].columns if c.type == "timestamp"]


# --- determinism ------------------------------------------------------------------------------
def test_same_seed_gives_identical_bytes_and_other_seed_differs(tmp_path: Path) -> None:
    small = {"customers": 250, "days": 120, "end_date": END}
    a = generate_shop(tmp_path / "a", seed=3, **small)
    generate_shop(tmp_path / "b", seed=3, **small)
    generate_shop(tmp_path / "c", seed=4, **small)
    da, db, dc = (tree_digest(tmp_path / x) for x in "abc")
    assert da == db
    assert len(da) == len(a.files) > 8
    common = set(da) & set(dc)
    assert any(da[k] != dc[k] for k in common if k.startswith("orders"))


def test_parquet_files_are_byte_identical_too(tmp_path: Path) -> None:
    small = {"customers": 250, "days": 120, "end_date": END, "seed": 3, "file_format": "parquet"}
    generate_shop(tmp_path / "a", daily_tail_days=2, **small)
    generate_shop(tmp_path / "b", daily_tail_days=2, **small)
    assert tree_digest(tmp_path / "a") == tree_digest(tmp_path / "b")


def test_chunks_and_workers_do_not_change_the_output(tmp_path: Path) -> None:
    params = dataclasses.replace(ShopParams(), chunk_customers=150)
    small = {"customers": 400, "days": 90, "end_date": END, "seed": 5, "params": params}
    one = generate_shop(tmp_path / "one", workers=1, **small)
    generate_shop(tmp_path / "two", workers=2, **small)
    assert tree_digest(tmp_path / "one") == tree_digest(tmp_path / "two")
    names = {p.name for p in one.files}
    assert {"members_part001.csv", "members_part003.csv"} <= names
    orders = read_csv_feed(tmp_path / "one", "orders")
    members = read_csv_feed(tmp_path / "one", "members")
    assert orders.order_id.is_unique and members.customer_id.is_unique
    assert len(members) == 400


# --- contract ---------------------------------------------------------------------------------
def test_every_csv_header_has_exactly_the_contract_columns(
    csv_shop: tuple[Path, ShopSummary],
) -> None:
    _root, summary = csv_shop
    assert {p.parent.name for p in summary.files} == set(FEEDS)
    for path in summary.files:
        feed = FEEDS[path.parent.name]
        header = csv_text(path).splitlines()[0].replace('"', "").split(",")
        assert set(header) == set(feed.column_names), path
        assert set(feed.required_columns) <= set(header)


def test_parquet_columns_are_the_contract_columns_with_plain_types(
    pq_shop: tuple[Path, ShopSummary],
) -> None:
    _root, summary = pq_shop
    types = {
        "timestamp": pa.timestamp("us"),
        "yen": pa.int64(),
        "int": pa.int64(),
        "bool": pa.bool_(),
        "date": pa.date32(),
        "text": pa.string(),
    }
    for path in summary.files:
        feed = FEEDS[path.parent.name]
        schema = pq.read_schema(path)
        assert schema.names == list(feed.column_names), path
        for column in feed.columns:
            assert schema.field(column.name).type == types[column.type], (path, column.name)


def test_allowed_values_and_minimums(feeds: dict[str, pd.DataFrame]) -> None:
    for name, feed in FEEDS.items():
        df = feeds[name]
        for column in feed.columns:
            values = df[column.name].dropna()
            if column.allowed is not None:
                assert set(values.str.lower()) <= set(column.allowed), (name, column.name)
            if column.minimum is not None:
                assert (
                    (values > column.minimum).all()
                    if column.exclusive_minimum
                    else (values >= column.minimum).all()
                ), (name, column.name)
            if column.required:
                assert df[column.name].notna().all(), (name, column.name)


def test_keys_are_unique(feeds: dict[str, pd.DataFrame]) -> None:
    for name, feed in FEEDS.items():
        assert not feeds[name].duplicated(list(feed.key)).any(), name


# --- integrity --------------------------------------------------------------------------------
def test_references_between_feeds(feeds: dict[str, pd.DataFrame]) -> None:
    orders, lines = feeds["orders"], feeds["order_lines"]
    order_ids = set(orders.order_id)
    members = set(feeds["members"].customer_id)
    for feed in ("order_lines", "shipments", "returns"):
        assert set(feeds[feed].order_id) <= order_ids, feed
    assert set(orders.customer_id.dropna()) <= members
    assert set(feeds["sessions"].customer_id.dropna()) <= members
    assert set(feeds["page_views"].session_id) == set(feeds["sessions"].session_id)
    line_keys = set(zip(lines.order_id, lines.line_number, strict=True))
    line_returns = feeds["returns"].dropna(subset=["line_number"])
    assert all(
        (o, int(n)) in line_keys
        for o, n in zip(line_returns.order_id, line_returns.line_number, strict=True)
    )
    assert (lines.groupby("order_id").line_number.max() <= 4).all()
    assert set(lines.order_id) == order_ids


def test_every_own_site_order_has_exactly_one_converting_session(
    feeds: dict[str, pd.DataFrame],
) -> None:
    orders, sessions = feeds["orders"], feeds["sessions"]
    conv = sessions[sessions.converted]
    assert conv.order_id.notna().all() and sessions[~sessions.converted].order_id.isna().all()
    assert conv.order_id.is_unique
    own = orders[orders.channel == "own_site"]
    assert set(conv.order_id) == set(own.order_id)
    joined = conv.merge(orders, on="order_id", suffixes=("", "_o"))
    assert (joined.started_at <= joined.ordered_at).all()
    assert (joined.ordered_at - joined.started_at < pd.Timedelta(hours=3)).all()
    assert (joined.ended_at >= joined.ordered_at).all()
    member = joined.customer_id_o.notna()
    assert (joined.customer_id[member] == joined.customer_id_o[member]).all()


def test_money_adds_up(feeds: dict[str, pd.DataFrame]) -> None:
    orders, lines, returns = feeds["orders"], feeds["order_lines"], feeds["returns"]
    assert (lines.line_amount == lines.quantity * lines.unit_price).all()
    subtotal = lines.groupby("order_id").line_amount.sum()
    o = orders.set_index("order_id")
    assert (o.subtotal_amount == subtotal.reindex(o.index)).all()
    assert (o.total_amount == o.subtotal_amount - o.discount_amount + o.shipping_fee).all()
    assert (o.tax_amount == o.total_amount * 10 // 110).all()
    assert (o[["subtotal_amount", "discount_amount", "shipping_fee", "total_amount"]] >= 0).all(
        axis=None
    )
    assert (o.discount_amount <= o.subtotal_amount).all()
    whole = returns[returns.line_number.isna()]
    assert (whole.refund_amount <= o.total_amount.reindex(whole.order_id).to_numpy()).all()
    part = returns.dropna(subset=["line_number"]).merge(lines, on=["order_id", "line_number"])
    assert (part.quantity_x <= part.quantity_y).all()
    assert (part.refund_amount <= part.unit_price * part.quantity_x).all()
    assert (returns.refund_amount >= 0).all()


def test_fulfilment_timeline_and_statuses(feeds: dict[str, pd.DataFrame]) -> None:
    orders, shipments, returns = feeds["orders"], feeds["shipments"], feeds["returns"]
    assert (orders.updated_at >= orders.ordered_at).all()
    s = shipments.merge(orders[["order_id", "ordered_at", "status"]], on="order_id")
    lag = s.shipped_at - s.ordered_at
    first_lag = lag.groupby(s.order_id).min()  # a few orders ship in two parcels
    assert (lag > pd.Timedelta(0)).all() and (lag < pd.Timedelta(days=9)).all()
    assert (first_lag < pd.Timedelta(days=6)).all() and first_lag.median() < pd.Timedelta(days=3)
    assert 0 < s.order_id.duplicated().sum() < 0.05 * len(s)
    d = s.dropna(subset=["delivered_at"])
    assert ((d.delivered_at - d.shipped_at) < pd.Timedelta(days=5)).all()
    assert (d.delivered_at > d.shipped_at).all()
    assert set(s.carrier) == {"yamato", "sagawa", "japan_post"}
    assert not (s.status == "cancelled").any()
    assert (s.updated_at >= s.shipped_at).all()
    last_delivery = d.groupby("order_id").delivered_at.max()
    r = returns.merge(last_delivery.rename("delivered_at"), on="order_id")
    assert len(r) == len(returns) and (r.returned_at > r.delivered_at).all()
    returned = set(orders.order_id[orders.status == "returned"])
    assert returned == set(returns.order_id[returns.line_number.isna()])
    unshipped = orders[~orders.order_id.isin(shipments.order_id)]
    assert set(unshipped.status) <= {"ordered", "cancelled", "delivered"}  # store orders
    assert set(unshipped.channel[unshipped.status == "delivered"]) == {"store"}


def test_members_register_before_they_order(feeds: dict[str, pd.DataFrame]) -> None:
    members = feeds["members"].set_index("customer_id")
    first = feeds["orders"].dropna(subset=["customer_id"]).groupby("customer_id").ordered_at.min()
    assert (members.registered_at.reindex(first.index) <= first).all()
    assert (members.updated_at >= members.registered_at).all()
    withdrawn = members.dropna(subset=["withdrawn_at"])
    assert 0 < len(withdrawn) < 0.1 * len(members)
    last = feeds["orders"].dropna(subset=["customer_id"]).groupby("customer_id").ordered_at.max()
    w = withdrawn.join(last.rename("last_order"), how="inner")
    assert (w.withdrawn_at > w.last_order).all()


def test_nothing_happens_after_the_end_date(feeds: dict[str, pd.DataFrame]) -> None:
    for feed in FEEDS:
        for column in timestamp_columns(feed):
            values = feeds[feed][column].dropna()
            assert (values <= END_TS).all(), (feed, column)
    assert (feeds["orders"].ordered_at >= START_TS).all()
    assert (feeds["sessions"].started_at >= START_TS).all()


# --- realism ----------------------------------------------------------------------------------
def test_shares_of_guests_cancellations_returns_and_channels(
    feeds: dict[str, pd.DataFrame],
) -> None:
    orders = feeds["orders"]
    guests = orders[orders.customer_id.isna()]
    assert 0.01 < len(guests) / len(orders) < 0.06
    assert set(guests.channel) == {"own_site"}
    status = orders.status.value_counts(normalize=True)
    assert 0.01 < status["cancelled"] < 0.08
    assert 0.005 < status["returned"] < 0.06
    assert 0.01 < len(feeds["returns"]) / len(feeds["shipments"]) < 0.08
    channels = orders.channel.value_counts(normalize=True)
    assert channels.index[0] == "own_site" and channels["own_site"] > 0.5
    assert {"rakuten", "amazon", "yahoo", "store"} <= set(channels.index)
    assert {"credit_card", "cod", "konbini"} <= set(orders.payment_method)
    assert orders.coupon_code.str.fullmatch(r"(SUMMER|BLACKFRIDAY)\d{4}").any()
    assert (orders.coupon_code == "WINTER10").any()


def test_customers_differ_in_frequency(feeds: dict[str, pd.DataFrame]) -> None:
    per_customer = feeds["orders"].customer_id.value_counts()
    assert (per_customer == 1).sum() > 0.05 * len(per_customer)
    assert (per_customer >= 6).sum() > 0.2 * len(per_customer)
    buyers = set(per_customer.index)
    prospects = ~feeds["members"].customer_id.isin(buyers)
    assert 0.03 < prospects.mean() < 0.5
    sessions = feeds["sessions"]
    assert sessions.customer_id.isin(set(feeds["members"].customer_id[prospects])).any()


def test_seasonality_december_and_summer_are_busier(feeds: dict[str, pd.DataFrame]) -> None:
    orders = feeds["orders"]
    year = orders[orders.ordered_at.dt.year == 2025]
    per_day = len(year) / 365
    december = (year.ordered_at.dt.month == 12).sum() / 31
    july = (year.ordered_at.dt.month == 7).sum() / 31
    february = (year.ordered_at.dt.month == 2).sum() / 28
    assert december > 1.1 * per_day
    assert july > per_day > february
    hours = orders.ordered_at.dt.hour.value_counts()
    assert hours[21] > 3 * hours[4]


def test_subscriptions_come_about_monthly(feeds: dict[str, pd.DataFrame]) -> None:
    subs = feeds["orders"][feeds["orders"].is_subscription].sort_values("ordered_at")
    assert len(subs) > 20 and set(subs.channel) == {"own_site"}
    gaps = subs.groupby("customer_id").ordered_at.diff().dropna().dt.total_seconds() / 86400
    assert 27 <= gaps.median() <= 33
    assert gaps.between(20, 40).mean() > 0.95


def test_sessions_identify_members_across_devices(feeds: dict[str, pd.DataFrame]) -> None:
    sessions = feeds["sessions"]
    logged = sessions.dropna(subset=["customer_id"])
    anonymous = sessions[sessions.customer_id.isna()]
    known_visitors = set(logged.visitor_id)
    assert anonymous.visitor_id.isin(known_visitors).mean() > 0.2
    assert (~anonymous.visitor_id.isin(known_visitors)).any()
    assert logged.groupby("customer_id").visitor_id.nunique().max() >= 2
    assert sessions.groupby("visitor_id").size().max() >= 3
    assert sessions.device_type.value_counts().index[0] == "mobile"
    assert {"google", "instagram", "line", "email", "direct"} <= set(sessions.source)
    assert (
        (sessions.ended_at - sessions.started_at)
        .dt.total_seconds()
        .eq(sessions.duration_seconds)
        .all()
    )
    assert not sessions.converted.all() and sessions.converted.any()


def test_page_views_detail_the_sessions(feeds: dict[str, pd.DataFrame]) -> None:
    sessions, views = feeds["sessions"].set_index("session_id"), feeds["page_views"]
    counts = views.groupby("session_id").size()
    assert (counts == sessions.page_views.reindex(counts.index)).all()
    first = views.sort_values("viewed_at").groupby("session_id").first()
    assert (first.viewed_at == sessions.started_at.reindex(first.index)).all()
    assert (first.page_url == sessions.landing_page.reindex(first.index)).all()
    assert views.sku.notna().eq(views.page_type == "product").all()
    conv = views[views.session_id.isin(sessions.index[sessions.converted])]
    tail = (
        conv.sort_values("viewed_at")
        .groupby("session_id")
        .page_type.apply(lambda s: tuple(s.iloc[-3:]))
    )
    assert (tail == ("cart", "checkout", "complete")).all()
    assert views.scroll_depth_pct.between(0, 100).all()


def test_members_look_japanese_and_reachable(feeds: dict[str, pd.DataFrame]) -> None:
    m = feeds["members"]
    assert m.family_name_kana.str.fullmatch(r"[ァ-ヶー]+").all()
    assert m.given_name_kana.str.fullmatch(r"[ァ-ヶー]+").all()
    emails = m.email.dropna()
    assert emails.is_unique and emails.str.fullmatch(r"[a-z0-9._-]+@[a-z0-9.-]+").all()
    phones = m.phone.dropna()
    assert phones.str.fullmatch(r"0[789]0-\d{4}-\d{4}").mean() > 0.9
    assert not phones.str.fullmatch(r"0[789]0-\d{4}-\d{4}").all()
    postal = m.postal_code.dropna()
    assert postal.str.fullmatch(r"\d{3}-\d{4}").mean() > 0.9
    assert "東京都" in m.prefecture.value_counts().index[:3]
    assert m.address_line1.str.fullmatch(r".+\d-\d{1,2}-\d{1,2}").all()
    assert set(m.member_rank) == {"REGULAR", "SILVER", "GOLD", "PLATINUM"}
    assert 0.45 < m.email_opt_in.mean() < 0.75 and 0.2 < m.sms_opt_in.mean() < 0.4
    ages = (pd.Timestamp(END) - pd.to_datetime(m.birth_date)).dt.days / 365.25
    assert ages.between(17, 85).all()
    household = m.dropna(subset=["postal_code"]).duplicated(
        ["postal_code", "address_line1", "address_line2", "family_name"], keep=False
    )
    assert household.any()
    s = feeds["suppressions"]
    assert set(s.channel) == {"email", "sms", "dm"}
    assert set(s.address[s.channel == "email"]) <= set(emails)
    assert set(s.address[s.channel == "dm"]) <= set(m.customer_id)


def test_member_rank_follows_spend(feeds: dict[str, pd.DataFrame]) -> None:
    orders, members = feeds["orders"], feeds["members"]
    recent = orders[
        (orders.ordered_at > END_TS - pd.Timedelta(days=365))
        & ~orders.status.isin(["cancelled", "returned"])
    ]
    spend = recent.groupby("customer_id").total_amount.sum()
    m = members.set_index("customer_id").join(spend.rename("spend")).fillna({"spend": 0})
    means = m.groupby("member_rank").spend.mean()
    assert means["REGULAR"] < means["SILVER"] < means["GOLD"] < means["PLATINUM"]


# --- CSV flavours -----------------------------------------------------------------------------
def test_csv_encodings_and_compression(csv_shop: tuple[Path, ShopSummary]) -> None:
    root, _ = csv_shop
    members = (root / "members" / "members.csv").read_bytes()
    members.decode("cp932")
    with pytest.raises(UnicodeDecodeError):
        members.decode("utf-8")
    returns = next((root / "returns").glob("*.csv")).read_bytes()
    assert returns.startswith(b"\xef\xbb\xbf")
    orders = next((root / "orders").glob("*.csv")).read_bytes()
    assert not orders.startswith(b"\xef\xbb\xbf")
    orders.decode("utf-8")
    views = list((root / "page_views").iterdir())
    assert views and all(p.name.endswith(".csv.gz") for p in views)
    assert gzip.decompress(views[0].read_bytes()).startswith(b'"session_id"')


def test_vocabulary_is_cp932_encodable() -> None:
    for text in all_member_strings():
        text.encode("cp932")


def test_csv_japanese_forms_carry_the_same_values_as_parquet(
    csv_shop: tuple[Path, ShopSummary], feeds: dict[str, pd.DataFrame]
) -> None:
    orders = read_csv_feed(csv_shop[0], "orders").set_index("order_id")
    jp_time = orders.ordered_at.str.contains("/")
    assert 0.002 < jp_time.mean() < 0.03
    assert orders.total_amount.str.startswith("¥").any()
    assert orders.total_amount.str.fullmatch(r"\d{1,3}(,\d{3})+").any()
    forms = set(orders.is_subscription)
    assert {"true", "false"} <= forms <= {"true", "false", "1", "0", "Y", "N"}
    assert forms & {"0", "N"}
    assert (orders.ordered_at[~jp_time].str.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")).all()

    def parse(text: str) -> datetime:
        if "/" in text:
            return datetime.strptime(text, "%Y/%m/%d %H:%M:%S")
        return datetime.fromisoformat(text)

    when = pd.to_datetime(orders.ordered_at.map(parse))
    total = orders.total_amount.str.replace(r"[¥,]", "", regex=True).astype("int64")
    sub = orders.is_subscription.isin(["true", "1", "Y"])
    ref = feeds["orders"].set_index("order_id").reindex(orders.index)
    assert (when == ref.ordered_at).all()
    assert (total == ref.total_amount).all()
    assert (sub == ref.is_subscription).all()
    jp_example = orders.ordered_at[jp_time].iloc[0]
    assert re.fullmatch(r"\d{4}/\d{1,2}/\d{1,2} \d{1,2}:\d\d:\d\d", jp_example)


# --- daily tail -------------------------------------------------------------------------------
def test_daily_tail_files_hold_only_their_day(tail_shop: Path) -> None:
    tail_days = [END - timedelta(days=k) for k in range(TAIL_DAYS)]
    tail_start = pd.Timestamp(tail_days[-1])
    for feed in ("orders", "order_lines", "shipments", "sessions", "page_views"):
        names = {p.name for p in (tail_shop / feed).iterdir()}
        for day in tail_days:
            assert f"{feed}_{day}.parquet" in names, (feed, day)
    assert (tail_shop / "members" / "members.parquet").exists()
    for feed_dir in tail_shop.iterdir():
        feed = FEEDS[feed_dir.name]
        for path in feed_dir.iterdir():
            df = pd.read_parquet(path)
            label = path.stem.removeprefix(f"{feed.name}_")
            stamps = [c for c in timestamp_columns(feed.name) if c in df]
            if feed.name == "sessions":  # a visit may end after midnight: its start files it
                stamps = ["started_at"]
            if re.fullmatch(r"\d{4}-\d\d-\d\d", label):
                day = pd.Timestamp(label)
                event = df[feed.event_time] if feed.event_time else df["updated_at"]
                changed = df.get("updated_at", event)
                on_day = (event.dt.normalize() == day) | (changed.dt.normalize() == day)
                assert on_day.all(), path
                assert df[stamps].max(axis=None) < day + pd.Timedelta(days=1), path
            else:  # nothing from the tail leaks into the earlier files
                assert df[stamps].max(axis=None) < tail_start, path


def test_daily_tail_replays_to_the_same_final_state(
    tail_shop: Path, feeds: dict[str, pd.DataFrame]
) -> None:
    for feed in ("orders", "shipments", "members", "sessions", "returns"):
        key = list(FEEDS[feed].key)
        versions = read_parquet_feed(tail_shop, feed)
        if "updated_at" in versions:
            versions = versions.sort_values("updated_at", kind="stable")
        latest = versions.drop_duplicates(key, keep="last").sort_values(key)
        full = feeds[feed].sort_values(key)
        pd.testing.assert_frame_equal(latest.reset_index(drop=True), full.reset_index(drop=True))
    orders = read_parquet_feed(tail_shop, "orders")
    assert orders.order_id.duplicated().any()  # some orders changed status in the tail


# --- CLI and arguments ------------------------------------------------------------------------
def test_cli_writes_a_shop_and_refuses_to_overwrite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [
        "--out",
        str(tmp_path / "shop"),
        "--customers",
        "120",
        "--days",
        "60",
        "--end-date",
        "2025-06-30",
        "--format",
        "parquet",
        "--daily-tail-days",
        "2",
    ]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "120 customers" in out and "orders" in out
    assert (tmp_path / "shop" / "orders" / "orders_2025-06-30.parquet").exists()
    assert main(argv) == 2
    assert main([*argv, "--overwrite"]) == 0


def test_summary_counts_rows_and_files(pq_shop: tuple[Path, ShopSummary]) -> None:
    root, summary = pq_shop
    assert summary.rows["members"] == ARGS["customers"]
    assert summary.rows["orders"] == len(read_parquet_feed(root, "orders"))
    assert all(p.exists() for p in summary.files)
    assert summary.start_date == END - timedelta(days=DAYS - 1) and summary.end_date == END
    assert str(summary).startswith("demo shop: 600 customers")
    assert np.isclose(summary.rows["sessions"] / summary.rows["orders"], 2.0, atol=0.6)


def test_rejects_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        generate_shop(tmp_path / "x", customers=0)
    with pytest.raises(ValueError):
        generate_shop(tmp_path / "x", days=10, daily_tail_days=11)
