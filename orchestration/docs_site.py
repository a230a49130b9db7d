"""The dbt docs site as one HTML file that opens offline, regenerated when it would change.

`dbt docs generate --static` writes ``static_index.html`` (manifest and catalog inlined); it is
copied to ``docs/index.html`` beside the warehouse file (``data/docs/index.html`` by default).
It costs a re-parse, a compile and a catalog query (15–60 s), so the nightly step regenerates it
only when its key changed: a digest of the dbt project's files (``PROJECT_SOURCES``: models, yml,
seeds, macros, dbt tests and fixtures, ``dbt_project.yml``, ``profiles.yml``, packages), of the
warehouse's relations and columns as dbt's catalog reads them (schema, name, kind, column,
position, type, comment) and of the dbt versions. The key is kept beside the page
(``docs/index.html.key``, written after the page, so a crash in between regenerates next night);
with the same key the page is kept and the step reports ``unchanged``.

The as-of date is not part of the key. The page's compiled SQL shows the as-of date of the night
it was generated, and stays so until the project or the warehouse's relations change; the
models' code, descriptions, columns, tests and lineage, which is what the page is for, do not
depend on it. The key file records that date (``as_of_date``).

The same step prunes the per-run folders dagster-dbt leaves in the dbt target directory
(``target/<step>-<run>-<id>``), keeping the newest ``KEEP_DBT_RUN_FOLDERS``.

``python -m orchestration.docs_site`` (``make docs``) always regenerates it, outside a run.
"""

import hashlib
import json
import os
import re
import shutil
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime
from importlib import metadata
from pathlib import Path

import dagster as dg
import duckdb
from dagster import AssetExecutionContext
from dagster_dbt import DbtCliResource

from crm.settings import PROJECT_DIR, TOKYO, Settings, apply_private_umask
from orchestration.resources import (
    WAREHOUSE_POOL,
    WarehouseResource,
    apply_dbt_environment,
    dbt_resource,
)

KEEP_DBT_RUN_FOLDERS = 5
DOCS_GROUP = "docs"
#: The folders dagster-dbt creates per invocation: ``<op>-<run id[:7]>-<uuid[:7]>`` or
#: ``<uuid[:7]>``, and this module's ``docs-<uuid[:7]>``.
_RUN_FOLDER = re.compile(r"^(?:[A-Za-z0-9_]+-(?:[0-9a-f]{7}-)?)?[0-9a-f]{7}$")


#: dbt's text files (sql, properties, docs blocks).
_DBT_TEXT = (".sql", ".yml", ".yaml", ".md")
#: What dbt reads to build the docs, besides the warehouse: project path → suffixes of the files
#: that count under it (a file listed by name always counts). Python tests, the bad-input corpus
#: and the CDNOW data under tests/ do not.
PROJECT_SOURCES: dict[str, tuple[str, ...]] = {
    "dbt_project.yml": (),
    "profiles.yml": (),
    "packages.yml": (),
    "dependencies.yml": (),
    "models": (*_DBT_TEXT, ".py", ".csv"),
    "seeds": (*_DBT_TEXT, ".csv"),
    "macros": _DBT_TEXT,
    "snapshots": _DBT_TEXT,
    "analyses": _DBT_TEXT,
    "tests": (".sql", ".yml", ".yaml"),
    "tests/fixtures": (*_DBT_TEXT, ".csv"),
    "dbt_packages": (*_DBT_TEXT, ".csv"),
}
#: dbt-duckdb's catalog, as ``duckdb__get_catalog`` reads it (no row counts or other statistics).
_CATALOG_SQL = """
    with relations as (
        select schema_name, table_name, 'BASE TABLE' as kind, comment
        from duckdb_tables()
        where database_name = current_database() and not internal
        union all
        select schema_name, view_name, 'VIEW', comment
        from duckdb_views()
        where database_name = current_database() and not internal
    )
    select
        r.schema_name, r.table_name, r.kind, r.comment,
        c.column_name, c.column_index, c.data_type, c.comment
    from relations as r
    join duckdb_columns() as c
        on c.database_name = current_database()
        and c.schema_name = r.schema_name
        and c.table_name = r.table_name
    order by all
"""


@dataclass(frozen=True)
class DocsKey:
    """What the docs page is generated from; the same key gives the same page."""

    project: str
    catalog: str
    dbt: str


def docs_site_path(build_path: Path) -> Path:
    return build_path.parent / "docs" / "index.html"


def docs_key_path(page: Path) -> Path:
    """The key of the page, beside it: ``docs/index.html.key``."""
    return page.with_name(page.name + ".key")


def project_files(project_dir: Path = PROJECT_DIR) -> list[Path]:
    """The files of the dbt project that the docs are built from (``PROJECT_SOURCES``)."""
    found: set[Path] = set()
    for name, suffixes in PROJECT_SOURCES.items():
        path = project_dir / name
        if path.is_file():
            found.add(path)
        elif path.is_dir():
            found.update(p for p in path.rglob("*") if p.is_file() and p.name.endswith(suffixes))
    return sorted(found)


def project_digest(project_dir: Path = PROJECT_DIR) -> str:
    digest = hashlib.sha256()
    for path in project_files(project_dir):
        digest.update(path.relative_to(project_dir).as_posix().encode("utf-8") + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def catalog_digest(conn: duckdb.DuckDBPyConnection) -> str:
    """The warehouse's relations and columns (schema, name, kind, types, comments)."""
    digest = hashlib.sha256()
    for row in conn.execute(_CATALOG_SQL).fetchall():
        digest.update(json.dumps(row, default=str, ensure_ascii=False).encode("utf-8") + b"\n")
    return digest.hexdigest()


def dbt_versions() -> str:
    found = []
    for package in ("dbt-core", "dbt-duckdb"):
        try:
            found.append(f"{package}=={metadata.version(package)}")
        except metadata.PackageNotFoundError:
            found.append(f"{package} missing")
    return ", ".join(found)


def docs_key(conn: duckdb.DuckDBPyConnection, project_dir: Path = PROJECT_DIR) -> DocsKey:
    return DocsKey(project_digest(project_dir), catalog_digest(conn), dbt_versions())


def warehouse_docs_key(warehouse: WarehouseResource) -> DocsKey:
    """The key of tonight's project and build database (the connection is closed before dbt)."""
    with warehouse.connect(read_only=True) as conn:
        return docs_key(conn)


def recorded_docs_key(page: Path) -> DocsKey | None:
    try:
        data = json.loads(docs_key_path(page).read_text(encoding="utf-8"))
        return DocsKey(project=data["project"], catalog=data["catalog"], dbt=data["dbt"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def regeneration_reason(page: Path, key: DocsKey) -> str | None:
    """Why the page must be regenerated for ``key``, or None when it would not change."""
    if not page.is_file():
        return "no page yet"
    recorded = recorded_docs_key(page)
    if recorded is None:
        return "no key recorded beside the page"
    changed = [
        name
        for name in ("project", "catalog", "dbt")
        if getattr(recorded, name) != getattr(key, name)
    ]
    return f"{' and '.join(changed)} changed" if changed else None


def record_docs_key(page: Path, key: DocsKey, as_of_date: str) -> Path:
    """Write the key beside the page (aside, then renamed), with the as-of date it shows."""
    path = docs_key_path(page)
    data = {
        **asdict(key),
        "as_of_date": as_of_date,
        "generated_at": datetime.now(TOKYO).isoformat(timespec="seconds"),
    }
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    partial.replace(path)
    return path


def dbt_target_dir() -> Path:
    """dbt's target directory (DBT_TARGET_PATH, else target/ of the project)."""
    return PROJECT_DIR / os.environ.get("DBT_TARGET_PATH", "target")


def prune_dbt_run_folders(target_dir: Path, keep: int = KEEP_DBT_RUN_FOLDERS) -> list[Path]:
    """Delete all but the newest ``keep`` per-run folders in ``target_dir``; return the deleted."""
    if not target_dir.is_dir():
        return []
    folders = [p for p in target_dir.iterdir() if p.is_dir() and _RUN_FOLDER.match(p.name)]
    folders.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    removed = folders[keep:]
    for folder in removed:
        shutil.rmtree(folder, ignore_errors=True)
    return removed


def generate_docs_site(
    dbt: DbtCliResource, warehouse: WarehouseResource, key: DocsKey | None = None
) -> Path:
    """Run `dbt docs generate --static`, copy the page next to the warehouse and record its key
    (``key``, else computed now) beside it; return the page."""
    if key is None:
        key = warehouse_docs_key(warehouse)
    apply_dbt_environment(warehouse)  # the as-of date in CRM_AS_OF_DATE, as for `dbt build`
    target = dbt_target_dir() / f"docs-{uuid.uuid4().hex[:7]}"
    invocation = dbt.cli(["docs", "generate", "--static"], target_path=target).wait()
    page = invocation.target_path / "static_index.html"
    destination = docs_site_path(Path(warehouse.build_path))
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_suffix(".html.partial")
    shutil.copyfile(page, partial)
    partial.replace(destination)
    record_docs_key(destination, key, warehouse.as_of_date)
    return destination


@dg.asset(
    key=dg.AssetKey([DOCS_GROUP, "dbt_site"]),
    group_name=DOCS_GROUP,
    pool=WAREHOUSE_POOL,
    deps=[dg.AssetKey(["marts", "customer_facts"])],
    kinds={"dbt", "html"},
    description=(
        "The dbt docs site (every model, column and test, lineage) as one HTML file that opens "
        "offline: docs/index.html beside the warehouse file, regenerated only when the dbt "
        "project or the warehouse's relations and columns changed (key in "
        "docs/index.html.key). Also prunes old per-run dbt target folders "
        f"(keeps {KEEP_DBT_RUN_FOLDERS})."
    ),
)
def dbt_docs_site(
    context: AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    path = docs_site_path(Path(warehouse.build_path))
    key = warehouse_docs_key(warehouse)
    reason = regeneration_reason(path, key)
    if reason is None:
        context.log.info(f"dbt docs site unchanged (same project and catalog): {path}")
    else:
        context.log.info(f"regenerating the dbt docs site: {reason}")
        path = generate_docs_site(dbt, warehouse, key)
    removed = prune_dbt_run_folders(dbt_target_dir())
    context.log.info(f"dbt docs site: {path} ({len(removed)} old dbt run folders removed)")
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(path)),
            "size_bytes": dg.MetadataValue.int(path.stat().st_size),
            "regenerated": dg.MetadataValue.bool(reason is not None),
            "reason": dg.MetadataValue.text(reason or "unchanged"),
            "dbt_run_folders_removed": dg.MetadataValue.int(len(removed)),
        }
    )


def main() -> int:
    apply_private_umask()  # the docs site describes the warehouse: 0640 like every run file
    settings = Settings.from_env()
    warehouse = WarehouseResource.from_settings(settings)
    print(f"Generating the dbt docs site for {settings.build_path} ...", flush=True)
    path = generate_docs_site(dbt_resource(), warehouse)
    prune_dbt_run_folders(dbt_target_dir())
    print(f"dbt docs: {path}\n  open file://{path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
