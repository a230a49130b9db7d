"""Modes of the files a run writes: owner read/write, group read, nobody else.

New files get them from the process umask (``crm.settings.apply_private_umask``); a file that
may already exist with a looser mode (an alert log appended to, a report folder, the build
database and its WAL, the DuckDB spill folder) is tightened with :func:`restrict`.
"""

from __future__ import annotations

from pathlib import Path

#: Files the run writes: owner read/write, group read.
PRIVATE_FILE_MODE = 0o640
#: Folders the run writes: owner all, group read/enter.
PRIVATE_DIR_MODE = 0o750


def restrict(path: Path, mode: int | None = None) -> None:
    """Take away from ``path`` every permission bit ``mode`` does not grant (default: 0640 for a
    file, 0750 for a folder); a tighter mode stays as it is; a missing path is left alone."""
    try:
        current = path.stat().st_mode & 0o7777
    except FileNotFoundError:
        return
    if mode is None:
        mode = PRIVATE_DIR_MODE if path.is_dir() else PRIVATE_FILE_MODE
    if current & ~mode:
        path.chmod(current & mode)


def restrict_tree(folder: Path) -> None:
    """:func:`restrict` a folder and everything in it (symlinks are left alone)."""
    if not folder.is_dir() or folder.is_symlink():
        return
    restrict(folder)
    for child in folder.rglob("*"):
        if not child.is_symlink():
            restrict(child)
