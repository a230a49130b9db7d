"""The manifest beside each export: what was filtered, held out and written, with checksums.

It holds no wall-clock time, so re-exporting the same night gives the same manifest bytes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crm.exports.publish import sha256_of


@dataclass(frozen=True)
class FileEntry:
    name: str
    format: str
    encoding: str | None
    rows: int

    def describe(self, path: Path) -> dict[str, Any]:
        return {
            "name": self.name,
            "format": self.format,
            "encoding": self.encoding,
            "rows": self.rows,
            "bytes": path.stat().st_size,
            "sha256": sha256_of(path),
        }


def manifest_bytes(manifest: dict[str, Any]) -> bytes:
    return (json.dumps(manifest, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
