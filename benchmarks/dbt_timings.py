"""Model timings of a run's ``dbt build``, from its ``run_results.json`` and ``manifest.json``.

dagster-dbt writes each invocation's artifacts to ``$DBT_TARGET_PATH/<op>-<run id[:7]>-<uuid>/``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

#: The models whose time is "our time for customer facts + RFM" (with everything upstream).
FACTS_MODEL = "customer_facts"
RFM_MODEL = "customer_rfm"
SLOWEST = 10


def artifacts_dir(target_path: Path, run_id: str) -> Path | None:
    candidates = [
        d for d in target_path.glob(f"*-{run_id[:7]}-*") if (d / "run_results.json").exists()
    ]
    return max(candidates, key=lambda d: d.stat().st_mtime) if candidates else None


def ancestors(parent_map: dict[str, list[str]], node: str) -> set[str]:
    """``node`` and everything it reads from, transitively."""
    seen: set[str] = set()
    stack = [node]
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        stack.extend(parent_map.get(current, []))
    return seen


def dbt_summary(target_path: Path, run_id: str) -> dict[str, Any]:
    folder = artifacts_dir(target_path, run_id)
    if folder is None:
        return {"found": False}
    results = json.loads((folder / "run_results.json").read_text())
    manifest = json.loads((folder / "manifest.json").read_text())
    nodes = manifest["nodes"]
    seconds = {r["unique_id"]: float(r["execution_time"]) for r in results["results"]}
    status = {r["unique_id"]: r["status"] for r in results["results"]}

    def model_id(name: str) -> str:
        return next(
            uid for uid, n in nodes.items() if n["resource_type"] == "model" and n["name"] == name
        )

    def closure_seconds(*names: str) -> float:
        ids: set[str] = set()
        for name in names:
            ids |= ancestors(manifest["parent_map"], model_id(name))
        return round(
            sum(seconds.get(i, 0.0) for i in ids if i.split(".")[0] in {"model", "seed"}), 3
        )

    models = sorted(
        (
            {
                "model": nodes[uid]["name"],
                "materialized": nodes[uid]["config"].get("materialized", ""),
                "seconds": round(s, 3),
                "status": status[uid],
            }
            for uid, s in seconds.items()
            if uid.startswith("model.")
        ),
        key=lambda m: -m["seconds"],
    )
    by_type: dict[str, float] = {}
    for uid, s in seconds.items():
        kind = uid.split(".")[0]
        by_type[kind] = round(by_type.get(kind, 0.0) + s, 3)
    return {
        "found": True,
        "artifacts": str(folder),
        "elapsed_seconds": round(float(results.get("elapsed_time", 0.0)), 3),
        "nodes": len(seconds),
        "failed": sorted(uid for uid, st in status.items() if st in ("error", "fail")),
        "seconds_by_resource_type": by_type,
        "slowest_models": models[:SLOWEST],
        "customer_facts_model_seconds": round(seconds.get(model_id(FACTS_MODEL), 0.0), 3),
        "customer_facts_closure_seconds": closure_seconds(FACTS_MODEL),
        "customer_facts_rfm_closure_seconds": closure_seconds(FACTS_MODEL, RFM_MODEL),
    }
