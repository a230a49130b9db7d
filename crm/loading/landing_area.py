"""What a feed folder holds, read without following symbolic links, and which files are complete.

A landing file is loaded only when it is complete:

- by default a file is complete when it has not changed for ``CRM_LANDING_QUIET_SECONDS``
  (default 300): a file modified more recently may still be being written and waits;
- a feed folder holding any ``<file>.done`` marker uses markers instead: ``x.csv`` is complete
  (at once) when ``x.csv.done`` lies beside it, and waits until then.

A waiting file is reported, not recorded in the ledger: it is loaded by a later run.

Symbolic links (a link to a file, to a folder, or a feed folder that is itself a link) are never
followed: they are listed in ``links`` and the loader refuses them unread.
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from crm.contract import ACCEPTED_SUFFIXES

DEFAULT_QUIET_SECONDS = 300
QUIET_SETTING = "CRM_LANDING_QUIET_SECONDS"
DONE_SUFFIX = ".done"
SYMLINK_MESSAGE = "a symbolic link: not followed (landing files must be regular files)"


def quiet_seconds(env: dict[str, str] | None = None) -> int:
    """``CRM_LANDING_QUIET_SECONDS``: how long a landing file must be unchanged to be complete."""
    env = dict(os.environ if env is None else env)
    text = env.get(QUIET_SETTING, "").strip()
    return int(text) if text else DEFAULT_QUIET_SECONDS


def entries(folder: Path) -> Iterator[tuple[Path, os.stat_result]]:
    """Every entry under ``folder`` with its ``lstat``, sorted by path, links not followed: a
    symbolic link (to a file or a folder) is yielded as itself and never entered. A ``folder``
    that is itself a link is yielded alone."""
    if folder.is_symlink():
        yield folder, folder.lstat()
        return
    found: list[tuple[Path, os.stat_result]] = []
    for directory, folders, files in os.walk(folder, followlinks=False):
        base = Path(directory)
        for name in [*folders, *files]:
            path = base / name
            try:
                info = path.lstat()
            except OSError:  # removed while listed
                continue
            if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode):
                found.append((path, info))
    yield from sorted(found, key=lambda item: item[0])


def is_link(info: os.stat_result) -> bool:
    return stat.S_ISLNK(info.st_mode)


@dataclass
class FeedFolder:
    """The files of a feed folder, by kind."""

    #: Regular files with an accepted suffix (sorted by path).
    accepted: list[Path] = field(default_factory=list)
    #: Regular files with another suffix (neither hidden nor ``.done`` markers).
    ignored: list[Path] = field(default_factory=list)
    #: Symbolic links (refused unread).
    links: list[Path] = field(default_factory=list)
    #: The files a ``.done`` marker beside them marks complete (``x.csv`` for ``x.csv.done``).
    markers: set[Path] = field(default_factory=set)

    @property
    def uses_markers(self) -> bool:
        return bool(self.markers)

    def waiting_reason(self, path: Path, quiet: int, now: float | None = None) -> str:
        """Why ``path`` (an accepted file) is not complete yet; "" when it may be loaded."""
        if self.uses_markers:
            if path in self.markers:
                return ""
            return (
                f"waits for its {DONE_SUFFIX} marker ({path.name}{DONE_SUFFIX}): this feed "
                f"folder uses {DONE_SUFFIX} markers"
            )
        age = (time.time() if now is None else now) - path.lstat().st_mtime
        if quiet > 0 and age < quiet:
            return (
                f"modified {max(age, 0):.0f} s ago: waits for {quiet} s of quiet ({QUIET_SETTING})"
            )
        return ""


def feed_folder(folder: Path) -> FeedFolder:
    """List a feed folder without following links; hidden files (``.name``, e.g. an upload in
    progress) are left out."""
    listing = FeedFolder()
    for path, info in entries(folder):
        if is_link(info):
            if not path.name.startswith(".") or path == folder:
                listing.links.append(path)
            continue
        if not stat.S_ISREG(info.st_mode) or path.name.startswith("."):
            continue
        name = path.name.lower()
        if name.endswith(DONE_SUFFIX):
            listing.markers.add(path.with_name(path.name[: -len(DONE_SUFFIX)]))
            continue
        (listing.accepted if name.endswith(ACCEPTED_SUFFIXES) else listing.ignored).append(path)
    return listing
