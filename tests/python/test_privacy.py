"""Personal data on disk and in the BI file (issue 20, items 8 and 9).

* Every file a run writes is 0640 and every folder 0750 (or tighter), whatever the server's
  umask, and files it finds looser (an old alert log, report folder, build database) are
  tightened: the build database and its WAL, the spill folder, alerts.log, the quality reports
  and the published warehouse.
* Quality-report samples of personal columns are masked wherever they are kept or shown.
* The publication copies only the columns the models' yml documents as non-personal and whose
  values do not look like e-mails, phones or postal addresses.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest

from crm.file_modes import restrict
from crm.loading.loader import load_feed
from crm.personal_data import MASK, mask_statistics, personal_kind
from crm.quality.publish import publish_warehouse
from crm.quality.report import write_night_report
from crm.quality.runner import ExpectationResult, run_suite, write_result
from crm.quality.suites.raw import RAW_SUITES
from crm.settings import PRIVATE_UMASK, apply_private_umask
from orchestration.alerts import Alert, alert_log_path, send_alert
from orchestration.assets.publish import withheld_alert
from orchestration.assets.quality import check_metadata
from orchestration.resources import WarehouseResource
from tests.python.conftest import AS_OF, settings_for, write_feed_file

#: A server's usual umask: files 0644, folders 0755.
SERVER_UMASK = 0o022

BAD_BIRTH_DATE = "1850-01-01"
BAD_EMAIL = "taro..yamada@@example"
MEMBERS = (
    "customer_id,registered_at,email,phone,family_name,given_name,birth_date,email_opt_in\n"
    f"C1,2024-01-01 10:00:00,{BAD_EMAIL},090-1234-5678,山田,太郎,{BAD_BIRTH_DATE},true\n"
    "C2,2024-01-02 10:00:00,hanako@example.jp,,佐藤,花子,1990-05-05,false\n"
)


@contextmanager
def server_umask() -> Iterator[None]:
    """The process umask as a server would have it, restored afterwards."""
    previous = os.umask(SERVER_UMASK)
    try:
        yield
    finally:
        os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _loose(path: Path, mode: int) -> Path:
    """Make ``path`` (a file or folder that exists) as loose as an older run would have left it."""
    path.chmod(mode)
    assert _mode(path) == mode
    return path


# --- item 8: modes -----------------------------------------------------------------------------


def test_the_private_umask_only_tightens() -> None:
    with server_umask():
        assert apply_private_umask() == SERVER_UMASK
        assert os.umask(0o077) == PRIVATE_UMASK
        apply_private_umask()  # 0o077 is tighter already: kept
        assert os.umask(SERVER_UMASK) == 0o077


def test_restrict_tightens_and_never_loosens(tmp_path: Path) -> None:
    loose, tight = tmp_path / "loose", tmp_path / "tight"
    loose.write_text("x")
    tight.write_text("x")
    _loose(loose, 0o666)
    tight.chmod(0o600)
    folder = tmp_path / "folder"
    folder.mkdir()
    _loose(folder, 0o777)
    for path in (loose, tight, folder, tmp_path / "missing"):
        restrict(path)
    assert (_mode(loose), _mode(tight), _mode(folder)) == (0o640, 0o600, 0o750)


def test_the_build_database_and_its_wal_are_private_under_a_server_umask(
    tmp_path: Path, landing: Path
) -> None:
    write_feed_file(landing, "members", "members.csv", MEMBERS)
    settings = settings_for(tmp_path / "data", landing)
    warehouse = WarehouseResource.from_settings(settings)
    build = settings.build_path
    build.parent.mkdir(parents=True)
    with server_umask():
        duckdb.connect(str(build)).close()  # as an older run left it: 0644
        spill = build.with_name(build.name + ".tmp")
        spill.mkdir()
        assert (_mode(build), _mode(spill)) == (0o644, 0o755)
        with warehouse.connect() as conn:
            load_feed(conn, landing, "members")
            wal = build.with_name(build.name + ".wal")
            assert wal.exists(), "the load's rows are still in the WAL (not checkpointed)"
            assert _mode(wal) == 0o640
            [raw_file] = (build.parent / f"{build.name}.raw" / "members").glob("*.parquet")
            emails = conn.execute(f"select email from read_parquet('{raw_file}')").fetchall()
            assert ("hanako@example.jp",) in emails  # why the raw layer must be private
            assert _mode(raw_file) == 0o640
            assert _mode(raw_file.parent) == 0o750
            assert _mode(build) == 0o640
            assert _mode(spill) == 0o750


def test_alerts_log_is_private_even_when_an_older_one_was_not(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, tmp_path / "landing")
    log = alert_log_path(settings, env={})
    log.write_text("an older alert\n")
    _loose(log, 0o644)
    with server_umask():
        send_alert(Alert("t", "w", "r"), settings, env={})
    assert _mode(log) == 0o640
    assert log.read_text().startswith("an older alert\n")
    fresh = tmp_path / "fresh" / "alerts.log"
    with server_umask():
        apply_private_umask()  # as run_nightly and build_definitions do
        send_alert(Alert("t", "w", "r"), settings, env={"CRM_ALERT_LOG": str(fresh)})
    assert (_mode(fresh), _mode(fresh.parent)) == (0o640, 0o750)


# --- item 8: masked samples -------------------------------------------------------------------


def _result(kwargs: dict[str, Any], sample: list[Any], observed: Any = None) -> ExpectationResult:
    statistics: dict[str, Any] = {
        "unexpected_count": len(sample),
        "partial_unexpected_list": sample,
    }
    if observed is not None:
        statistics["observed_value"] = observed
    return ExpectationResult(
        name="n",
        check_name="gx_n",
        severity="warning",
        type="ExpectColumnValuesToMatchRegex",
        frame="in_force",
        description="d",
        kwargs=kwargs,
        success=False,
        statistics=statistics,
    )


def test_samples_of_personal_columns_are_masked() -> None:
    # a personal column: every sample masked, the counts kept
    masked = mask_statistics(
        {"unexpected_count": 2, "partial_unexpected_list": [BAD_EMAIL, "x"]}, {"column": "email"}
    )
    assert masked == {"unexpected_count": 2, "partial_unexpected_list": [MASK, MASK]}
    # a pair expectation on birth_date: the pairs are masked whole
    pair = {"column_A": "birth_date", "column_B": "_min_birth_date"}
    masked = mask_statistics({"partial_unexpected_list": [[BAD_BIRTH_DATE, "1900-01-01"]]}, pair)
    assert BAD_BIRTH_DATE not in json.dumps(masked)
    # a compound sample (suppressions key): only the personal key is masked
    compound = {"column_list": ["channel", "address", "_version", "_load_id"]}
    rows = [{"channel": "email", "address": "a@b.jp", "_version": 1, "_load_id": 2}]
    masked = mask_statistics({"partial_unexpected_list": rows}, compound)
    assert masked["partial_unexpected_list"] == [
        {"channel": "email", "address": MASK, "_version": 1, "_load_id": 2}
    ]
    # generic: a value that looks like contact data is masked in any column
    masked = mask_statistics(
        {"partial_unexpected_list": ["GOLDX", "a@b.jp", "090-1234-5678", "〒100-0001"]},
        {"column": "member_rank"},
    )
    assert masked["partial_unexpected_list"] == ["GOLDX", MASK, MASK, MASK]
    # an observed value of a personal column (e.g. a min birth date), not a count
    masked = mask_statistics({"observed_value": BAD_BIRTH_DATE}, {"column": "birth_date"})
    assert masked["observed_value"] == MASK
    assert mask_statistics({"observed_value": 3}, {"column": "birth_date"})["observed_value"] == 3


def test_check_metadata_and_the_report_mask_a_result_built_elsewhere(tmp_path: Path) -> None:
    result = _result({"column": "email"}, [BAD_EMAIL], observed=BAD_EMAIL)
    metadata = check_metadata(result, tmp_path / "x.json")
    assert BAD_EMAIL not in json.dumps({k: str(v) for k, v in metadata.items()})
    assert "unexpected_sample" in metadata


def test_a_real_raw_suite_keeps_no_personal_sample(tmp_path: Path, landing: Path) -> None:
    write_feed_file(landing, "members", "members.csv", MEMBERS)
    settings = settings_for(tmp_path / "data", landing)
    build = settings.build_path
    build.parent.mkdir(parents=True)
    with WarehouseResource.from_settings(settings).connect() as conn:
        load_feed(conn, landing, "members")
    suite = next(s for s in RAW_SUITES if tuple(s.target) == ("raw", "members"))
    result = run_suite(build, suite, AS_OF, full=True)
    plausible = next(r for r in result.results if r.name.endswith("birth_date_plausible"))
    assert not plausible.success and plausible.statistics["unexpected_count"] == 1
    assert plausible.statistics["partial_unexpected_list"]  # a sample is kept ...
    kept = json.dumps([r.statistics for r in result.results], default=str)
    assert BAD_BIRTH_DATE not in kept and "1850" not in kept  # ... masked

    quality = tmp_path / "data" / "quality"
    quality.mkdir()
    _loose(quality, 0o755)
    with server_umask():
        json_path = write_result(result, quality)
        page = write_night_report(quality, result.as_of_date)
    for path in (json_path, page, quality / "index.html"):
        text = path.read_text(encoding="utf-8")
        assert "1850" not in text and BAD_EMAIL not in text and "山田" not in text
        assert _mode(path) == 0o640
    assert _mode(quality) == _mode(json_path.parent) == 0o750
    for expectation in result.results:
        metadata = check_metadata(expectation, json_path)
        assert "1850" not in json.dumps({k: str(v) for k, v in metadata.items()})


# --- item 9: publication by allowlist ----------------------------------------------------------


def _model(
    schema: str, name: str, columns: list[str], meta: dict[str, Any] | None = None, **column_meta
) -> tuple[str, dict[str, Any]]:
    return f"model.crm_warehouse.{name}", {
        "resource_type": "model",
        "name": name,
        "schema": schema,
        "alias": name,
        "config": {"meta": {"contains_personal_data": False} if meta is None else meta},
        "columns": {
            c: {"name": c, "meta": {"personal": True} if c in column_meta else {}} for c in columns
        },
    }


HANDMADE = """
create schema audiences;
create schema marts;
create schema reference;
create table audiences.vip_mail as
    select 'C1' as customer_id, date '1980-04-01' as birth_date,
           'taro@example.jp' as mail_address, 'loyal' as rfm_group
    union all
    select 'C2', date '1990-05-05', 'hanako@example.co.jp', 'new';
create table marts.member_report as
    select 'C1' as customer_id, '東京都' as prefecture, '東京都千代田区千代田1-1' as note,
           '03-1234-5678' as contact, 'FOOD-0101' as sku, '05000-15000' as order_id,
           '〒100-0001' as mark, 'ok' as flagged_personal;
create table marts.undeclared as select 'C1' as customer_id;
create table marts.stray as select 'C1' as customer_id;
create table reference.member_ranks as select 'GOLD' as member_rank, 3 as rank_order;
"""


REPORT_COLUMNS = ["customer_id", "prefecture", "note", "contact", "sku", "order_id", "mark"]


def _handmade(tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    build = tmp_path / "warehouse.build.duckdb"
    with duckdb.connect(str(build)) as conn:
        conn.execute(HANDMADE)
    nodes = dict(
        [
            # birth_date is not documented; mail_address is, its values are e-mails
            _model("audiences", "vip_mail", ["customer_id", "mail_address", "rfm_group"]),
            _model(
                "marts",
                "member_report",
                [*REPORT_COLUMNS, "flagged_personal", "birth_date"],
                flagged_personal=True,
            ),
            _model("marts", "undeclared", ["customer_id"], meta={}),
            _model("reference", "member_ranks", ["member_rank", "rank_order"]),
        ]
    )
    return build, {"nodes": nodes}


def _published_columns(path: Path) -> dict[str, list[str]]:
    with duckdb.connect(str(path), read_only=True) as conn:
        rows = conn.execute(
            "select table_schema || '.' || table_name, column_name from information_schema.columns "
            "where table_schema in ('marts', 'audiences', 'reference') order by all"
        ).fetchall()
    found: dict[str, list[str]] = {}
    for table, column in rows:
        found.setdefault(table, []).append(column)
    return found


def test_only_documented_non_personal_columns_are_published(tmp_path: Path) -> None:
    build, manifest = _handmade(tmp_path)
    published = tmp_path / "warehouse.duckdb"
    with server_umask():
        publication = publish_warehouse(build, published, date(2025, 6, 30), manifest)
    assert _mode(published) == 0o640
    assert _published_columns(published) == {
        "audiences.vip_mail": ["customer_id", "rfm_group"],
        "marts.member_report": ["customer_id", "order_id", "prefecture", "sku"],
        "reference.member_ranks": ["member_rank", "rank_order"],
    }
    withheld = publication.withheld
    assert "not documented" in withheld["audiences.vip_mail.birth_date"]
    assert "e-mail" in withheld["audiences.vip_mail.mail_address"]
    assert "postal address" in withheld["marts.member_report.note"]
    assert "phone" in withheld["marts.member_report.contact"]
    assert "postal address" in withheld["marts.member_report.mark"]
    assert "personal: true" in withheld["marts.member_report.flagged_personal"]
    assert "contains_personal_data: false" in withheld["marts.undeclared.customer_id"]
    assert "not a dbt model" in withheld["marts.stray.customer_id"]
    assert set(publication.tables) == {
        "audiences.vip_mail",
        "marts.member_report",
        "reference.member_ranks",
    }
    # the alert names tables, columns and reasons, never a value
    text = withheld_alert(withheld, "2025-06-30", "run").render()
    assert "audiences.vip_mail" in text and "mail_address" in text
    for value in ("taro@example.jp", "1980-04-01", "千代田", "03-1234-5678", "100-0001"):
        assert value not in text


def test_a_documented_personal_name_is_withheld_even_when_declared_non_personal(
    tmp_path: Path,
) -> None:
    build, manifest = _handmade(tmp_path)
    manifest["nodes"]["model.crm_warehouse.vip_mail"]["columns"]["birth_date"] = {
        "name": "birth_date"
    }
    publication = publish_warehouse(build, tmp_path / "w.duckdb", date(2025, 6, 30), manifest)
    assert "named like a personal column" in publication.withheld["audiences.vip_mail.birth_date"]


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("taro.yamada@example.co.jp", "e-mail addresses"),
        ("090-1234-5678", "phone numbers"),
        ("+81 90 1234 5678", "phone numbers"),
        ("0312345678", "phone numbers"),
        ("150-0001", "postal addresses"),
        ("神奈川県横浜市中区", "postal addresses"),
        # ids, SKUs, labels of the demo shop and CDNOW
        ("C000123", None),
        ("FOOD-0101", None),
        ("00012-34567", None),
        ("05000-15000", None),
        ("0001234567", None),
        ("東京都", None),
        ("新規", None),
        ("lapsed_loyal", None),
    ],
)
def test_what_looks_personal(value: str, kind: str | None) -> None:
    assert personal_kind(value) == kind


def test_a_nightly_run_leaves_no_world_readable_file(request: pytest.FixtureRequest) -> None:
    """The shared shop (one nightly run), started under a server's umask when this test is the
    first to use it: nothing the run wrote under its folder is readable by others."""
    with server_umask():
        settings, result = request.getfixturevalue("shop")
    assert result.success
    root = settings.warehouse_path.parent
    landing = settings.landing_dir
    exposed = [
        f"{path.relative_to(root)} {oct(_mode(path))}"
        for path in root.rglob("*")
        if not path.is_symlink()
        and landing not in (path, *path.parents)  # the shop's own files
        and _mode(path) & 0o007
    ]
    assert exposed == []
    assert settings.warehouse_path.exists() and _mode(settings.warehouse_path) == 0o640
