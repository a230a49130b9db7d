"""The output tables on CDNOW and on the shared generated shop equal the committed golden digests
(``tests/golden``): a change of the models that moves a figure fails here, naming the table and
the columns. A change meant to move figures (a documented fix) rewrites the golden files with
``CRM_UPDATE_GOLDEN=1`` and says why in its commit (see ``tests/python/golden.py``)."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import duckdb
import pytest

from crm.settings import Settings
from tests.python.golden import check_against_golden, differences, table_digest

pytestmark = pytest.mark.slow


def test_cdnow_marts_equal_the_golden_digests(cdnow_warehouse: Path) -> None:
    assert check_against_golden(cdnow_warehouse, "cdnow") == []


def test_shop_marts_equal_the_golden_digests(
    shop: tuple[Settings, dg.ExecuteInProcessResult],
) -> None:
    settings, _ = shop
    assert check_against_golden(settings.build_path, "shop") == []


def test_a_moved_figure_is_named_with_its_column(tmp_path: Path) -> None:
    # the comparison itself can fail: one changed value names its table and column
    with duckdb.connect(str(tmp_path / "w.duckdb")) as conn:
        conn.execute("create schema marts")
        conn.execute("create table marts.t as select 1 as a, 0.1 + 0.2 as b, 'x' as _internal")
        before = {"marts.t": table_digest(conn, "marts", "t")}
        conn.execute("update marts.t set _internal = 'y'")  # internal: not compared
        assert differences(before, {"marts.t": table_digest(conn, "marts", "t")}) == []
        conn.execute("update marts.t set b = 0.3")  # the same to 9 significant digits
        assert differences(before, {"marts.t": table_digest(conn, "marts", "t")}) == []
        conn.execute("update marts.t set a = 2")
        after = {"marts.t": table_digest(conn, "marts", "t")}
    assert differences(before, after) == ["marts.t: rows 1 -> 1; columns that moved: a"]
    assert differences(before, {}) == ["marts.t: missing"]
