"""Audiences as the dbt manifest declares them: models with ``config.meta.audience``."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crm.exports.channels import CHANNELS

DEFAULT_HOLDOUT_SHARE = 0.1
#: The model that holds the members' contact data (the only PII layer).
CONTACTS_MODEL = "export_contacts"

_NAME = re.compile(r"[a-z0-9_]+")


class AudienceConfigError(ValueError):
    """An audience model's ``meta.audience`` block cannot be used."""


@dataclass(frozen=True)
class Audience:
    name: str
    schema: str
    identifier: str
    channels: tuple[str, ...]
    description: str
    owner: str
    holdout_share: float = DEFAULT_HOLDOUT_SHARE

    @property
    def relation(self) -> str:
        return quote_relation(self.schema, self.identifier)


def quote_relation(schema: str, identifier: str) -> str:
    """``"schema"."table"`` without the database, so a copied warehouse file still resolves."""
    return f'"{schema}"."{identifier}"'


def load_manifest(manifest_path: Path) -> dict[str, Any]:
    return json.loads(Path(manifest_path).read_text(encoding="utf-8"))


def discover_audiences(manifest: Path | dict[str, Any]) -> list[Audience]:
    """Every enabled model with ``config.meta.audience``, sorted by name."""
    data = manifest if isinstance(manifest, dict) else load_manifest(manifest)
    audiences = [
        _audience(node)
        for node in data.get("nodes", {}).values()
        if node.get("resource_type") == "model" and _meta(node) is not None
    ]
    return sorted(audiences, key=lambda audience: audience.name)


def contacts_relation(manifest: Path | dict[str, Any]) -> str:
    """The relation of ``export_contacts`` as the manifest places it."""
    data = manifest if isinstance(manifest, dict) else load_manifest(manifest)
    for node in data.get("nodes", {}).values():
        if node.get("resource_type") == "model" and node.get("name") == CONTACTS_MODEL:
            return quote_relation(node["schema"], node.get("alias") or node["name"])
    raise AudienceConfigError(f"the dbt project has no model {CONTACTS_MODEL}")


def _meta(node: dict[str, Any]) -> dict[str, Any] | None:
    meta = (node.get("config") or {}).get("meta") or node.get("meta") or {}
    audience = meta.get("audience")
    return audience if isinstance(audience, dict) else None


def _audience(node: dict[str, Any]) -> Audience:
    name = str(node["name"])
    meta = _meta(node) or {}
    where = f"model {name}, meta.audience"
    if not _NAME.fullmatch(name):
        raise AudienceConfigError(f"{where}: the name must be lower-case letters, digits and _")
    channels = meta.get("channels")
    if isinstance(channels, str):
        channels = [channels]
    if not channels or not isinstance(channels, list):
        raise AudienceConfigError(f"{where}: channels must list one or more of {list(CHANNELS)}")
    unknown = [c for c in channels if c not in CHANNELS]
    if unknown:
        raise AudienceConfigError(f"{where}: unknown channels {unknown}; use {list(CHANNELS)}")
    share = meta.get("holdout_share", DEFAULT_HOLDOUT_SHARE)
    if isinstance(share, bool) or not isinstance(share, int | float) or not 0 <= share < 1:
        raise AudienceConfigError(f"{where}: holdout_share must be a number in [0, 1)")
    return Audience(
        name=name,
        schema=str(node["schema"]),
        identifier=str(node.get("alias") or name),
        channels=tuple(dict.fromkeys(str(c) for c in channels)),
        description=str(meta.get("description") or node.get("description") or ""),
        owner=str(meta.get("owner") or ""),
        holdout_share=float(share),
    )
