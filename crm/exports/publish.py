"""Atomic publication of an export's files: written aside, checked, renamed into place.

Every file of an audience × channel is first written to a hidden temporary name in its final
folder; only when all of them are complete are they renamed (``os.replace``, atomic on one file
system) over the previous ones, the manifest last. A reader who sees a manifest therefore sees
the complete files it describes. Files are 0640 and folders 0750: exports hold personal data.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

FILE_MODE = 0o640
DIR_MODE = 0o750


def ensure_private_dir(path: Path, root: Path) -> None:
    """Create ``path`` (and parents up to ``root``) as 0750 folders."""
    if not root.exists():
        root.mkdir(parents=True)
        root.chmod(DIR_MODE)
    current = root
    for part in path.relative_to(root).parts:
        current = current / part
        current.mkdir(exist_ok=True)
        current.chmod(DIR_MODE)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class StagedFile:
    final: Path
    temporary: Path


class Staging:
    """The temporary files of one publication, renamed into place by ``publish``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.files: list[StagedFile] = []

    def path_for(self, name: str) -> Path:
        """A temporary path in ``folder`` for the file that will be published as ``name``."""
        for leftover in self.folder.glob(f".{name}.*.tmp"):  # from an interrupted run
            leftover.unlink(missing_ok=True)
        staged = StagedFile(self.folder / name, self.folder / f".{name}.{os.getpid()}.tmp")
        # Created private before any data goes in; writers truncate it and keep the mode.
        os.close(os.open(staged.temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
        self.files.append(staged)
        return staged.temporary

    def publish(self) -> None:
        """Rename every staged file into place, in the order staged (stage the manifest last)."""
        for staged in self.files:
            staged.temporary.chmod(FILE_MODE)
            with staged.temporary.open("rb") as handle:
                os.fsync(handle.fileno())
        for staged in self.files:
            os.replace(staged.temporary, staged.final)
        self.files = []

    def discard(self) -> None:
        for staged in self.files:
            staged.temporary.unlink(missing_ok=True)
        self.files = []


@contextmanager
def staging(folder: Path) -> Iterator[Staging]:
    """Stage files in ``folder``; whatever was not published is removed on the way out."""
    stage = Staging(folder)
    try:
        yield stage
    finally:
        stage.discard()
