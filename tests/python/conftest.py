"""Shared fixtures: a fresh DuckDB connection, landing-area helpers, and `dbt` on PATH."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

# dagster-dbt starts `dbt` as a child process: use the one installed beside this Python.
os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")

REPO = Path(__file__).resolve().parents[2]
TEST_DATA = REPO / "tests" / "data"


@pytest.fixture
def conn() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    try:
        yield connection
    finally:
        connection.close()


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    root = tmp_path / "landing"
    root.mkdir()
    return root


def write_feed_file(
    landing: Path, feed: str, name: str, text: str, encoding: str = "utf-8"
) -> Path:
    folder = landing / feed
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(text.encode(encoding))
    return path
