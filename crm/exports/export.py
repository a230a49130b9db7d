"""One audience × channel export: filters, holdout, files, manifest, history."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from crm.exports.audiences import Audience
from crm.exports.channels import CHANNELS, Channel
from crm.exports.funnel import Funnel, HeldBack, run_funnel
from crm.exports.history import HISTORY_TABLE, record_history
from crm.exports.holdout import is_held_out
from crm.exports.manifest import FileEntry, manifest_bytes
from crm.exports.publish import ensure_private_dir, staging
from crm.exports.writers import CsvStats, write_csv, write_parquet

_TRUE = {"1", "true", "yes", "y", "on"}


@dataclass(frozen=True)
class ExportOptions:
    #: Write the UTF-8 CSV with a byte-order mark (Excel on Windows then opens it correctly).
    csv_bom: bool = False

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> ExportOptions:
        env = dict(os.environ if env is None else env)
        return cls(csv_bom=env.get("CRM_EXPORT_CSV_BOM", "").strip().lower() in _TRUE)


@dataclass(frozen=True)
class ExportResult:
    audience: str
    channel: str
    as_of_date: date
    folder: Path
    funnel: tuple[tuple[str, int], ...]
    exported: int
    held_out: int
    replaced_characters: int
    neutralised_cells: int
    #: File name → path, the manifest included.
    files: dict[str, Path]
    manifest_path: Path
    #: The main data file (the UTF-8 CSV), relative to the export folder, as in the history.
    file_name: str
    #: Audience members held back because a rejected consent row names them.
    consent_uncertain: tuple[str, ...] = ()
    #: Reachable rows held back for a value longer than its column's limit.
    too_long: tuple[HeldBack, ...] = ()


def export_folder(export_dir: Path, as_of_date: date, audience: str) -> Path:
    return export_dir / as_of_date.isoformat() / audience


def split_holdout(audience: Audience, rows: pa.Table) -> tuple[pa.Table, list[str]]:
    """The rows to send and the held-out customer ids (both in customer_id order)."""
    ids = [str(v) for v in rows.column("customer_id").to_pylist()]
    mask = [is_held_out(audience.name, cid, audience.holdout_share) for cid in ids]
    held_out = [cid for cid, held in zip(ids, mask, strict=True) if held]
    return rows.filter(pc.invert(pa.array(mask, pa.bool_()))), held_out


def export_audience(
    conn: duckdb.DuckDBPyConnection,
    audience: Audience,
    channel_name: str,
    *,
    contacts_relation: str,
    export_dir: Path,
    as_of_date: date,
    options: ExportOptions | None = None,
) -> ExportResult:
    """Export one audience on one channel for the night ``as_of_date``.

    Files land in ``{export_dir}/{as_of_date}/{audience}/``; the history of that night is
    replaced. Running it twice on the same data gives byte-identical files and manifest.
    """
    options = options or ExportOptions.from_env()
    channel = CHANNELS[channel_name]
    funnel = run_funnel(conn, audience, channel, contacts_relation)
    to_send, held_out = split_holdout(audience, funnel.rows)
    folder = export_folder(export_dir, as_of_date, audience.name)
    ensure_private_dir(folder, export_dir)
    file_name = f"{as_of_date.isoformat()}/{audience.name}/{channel.name}.csv"
    manifest_name = f"{channel.name}.manifest.json"
    with staging(folder) as stage:
        entries, stats = _write_files(stage.path_for, channel, to_send, options)
        paths = {entry.name: folder / entry.name for entry in entries}
        temporary = {f.final.name: f.temporary for f in stage.files}
        manifest = _manifest(
            audience, channel, as_of_date, funnel, to_send, held_out, stats, options
        )
        manifest["files"] = [entry.describe(temporary[entry.name]) for entry in entries]
        manifest["history"] = {"table": HISTORY_TABLE, "file_name": file_name}
        stage.path_for(manifest_name).write_bytes(manifest_bytes(manifest))
        record_history(
            conn,
            audience=audience.name,
            channel=channel.name,
            export_date=as_of_date,
            exported=[str(v) for v in to_send.column("customer_id").to_pylist()],
            held_out=held_out,
            file_name=file_name,
        )
        stage.publish()
    return ExportResult(
        audience=audience.name,
        channel=channel.name,
        as_of_date=as_of_date,
        folder=folder,
        funnel=funnel.steps,
        exported=to_send.num_rows,
        held_out=len(held_out),
        replaced_characters=stats.replaced_characters,
        neutralised_cells=stats.neutralised_cells,
        files={**paths, manifest_name: folder / manifest_name},
        manifest_path=folder / manifest_name,
        file_name=file_name,
        consent_uncertain=funnel.consent_uncertain,
        too_long=funnel.too_long,
    )


def _write_files(
    path_for: Callable[[str], Path], channel: Channel, table: pa.Table, options: ExportOptions
) -> tuple[list[FileEntry], CsvStats]:
    """Write the channel's files to staged paths; the CP932 stats win when there is one."""
    utf8 = "utf-8-sig" if options.csv_bom else "utf-8"
    csv_name = f"{channel.name}.csv"
    stats = write_csv(path_for(csv_name), table, utf8)
    entries = [FileEntry(csv_name, "csv", utf8, stats.rows)]
    if channel.writes_cp932:
        cp932_name = f"{channel.name}.cp932.csv"
        cp932_stats = write_csv(path_for(cp932_name), table, "cp932")
        entries.append(FileEntry(cp932_name, "csv", "cp932", cp932_stats.rows))
        stats = cp932_stats
    parquet_name = f"{channel.name}.parquet"
    write_parquet(path_for(parquet_name), table)
    entries.append(FileEntry(parquet_name, "parquet", None, table.num_rows))
    return entries, stats


def _manifest(
    audience: Audience,
    channel: Channel,
    as_of_date: date,
    funnel: Funnel,
    to_send: pa.Table,
    held_out: list[str],
    stats: CsvStats,
    options: ExportOptions,
) -> dict[str, Any]:
    return {
        "audience": audience.name,
        "channel": channel.name,
        "as_of_date": as_of_date.isoformat(),
        "description": audience.description,
        "owner": audience.owner,
        "source": audience.relation,
        "funnel": [{"step": step, "rows": rows} for step, rows in funnel.steps],
        # Held back, named by customer id only (never a contact or a value).
        "consent_uncertain_customers": list(funnel.consent_uncertain),
        "held_back_too_long": [
            {"customer_id": held.customer_id, "columns": list(held.columns)}
            for held in funnel.too_long
        ],
        "holdout_share": audience.holdout_share,
        "held_out_rows": len(held_out),
        "exported_rows": to_send.num_rows,
        "columns": to_send.column_names,
        "csv_bom": options.csv_bom,
        "neutralised_cells": stats.neutralised_cells,
        "replaced_characters": stats.replaced_characters,
        "customers_with_replaced_characters": stats.customers_with_replaced_characters,
    }
