"""Crash safety: a nightly run killed mid-build or mid-export loses nothing BI readers or the
mail tools see, and a BI client holding the warehouse open never blocks a run.

One test, three runs of ``python -m orchestration.run`` in a child process (its own process
group, so dbt dies with it) on a copy of the session's shop, one night later:

1. killed (SIGKILL) as soon as dbt has built its first models;
2. killed as soon as the first audience export is published;
3. left to finish.

A BI client opens the published warehouse (CRM_WAREHOUSE_PATH) read-only before run 1 and keeps
that connection open throughout. While the runs go on, fresh read-only connections are opened
every half second. After each kill, yesterday's warehouse and export files are byte-for-byte
as they were, and every manifest on disk describes complete files.

``python -m tests.python.test_crash_safety --repeat 5`` (see the module's ``main``) repeats the
scenario and prints one line per attempt, for the closing notes.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path

import pytest

from crm.settings import Settings
from tests.python.conftest import AS_OF, settings_for

REPO = Path(__file__).resolve().parents[2]
STEP_START = re.compile(r'Started execution of step "([^"]+)"')
MATERIALIZED = "ASSET_MATERIALIZATION"
Snapshot = dict[str, object]


def _client(path: Path, mode: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.python.bi_client", str(path), mode],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


class HeldConnection:
    """A dashboard left open all night: one read-only connection in another process."""

    def __init__(self, path: Path) -> None:
        self.process = _client(path, "hold")
        assert self.process.stdout is not None and self.process.stdin is not None
        assert json.loads(self.process.stdout.readline()) == {"ready": True}

    def snapshot(self) -> Snapshot:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write("\n")
        self.process.stdin.flush()
        return json.loads(self.process.stdout.readline())

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=30)


def read_published(path: Path) -> Snapshot:
    """What a BI client connecting now sees (a fresh process, a fresh connection)."""
    output = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, json, duckdb; from tests.python.bi_client import snapshot; "
            "print(json.dumps(snapshot(duckdb.connect(sys.argv[1], read_only=True))))",
            str(path),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(output)


def file_hashes(root: Path) -> dict[str, str]:
    """sha256 of every file under ``root`` except the hidden temporary files of a publication."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.name.startswith(".")
    }


def manifests_are_complete(export_dir: Path) -> list[str]:
    """Problems with any manifest on disk: a listed file missing or not the bytes it describes."""
    problems = []
    for manifest in export_dir.rglob("*.manifest.json"):
        described = json.loads(manifest.read_text(encoding="utf-8"))
        for entry in described["files"]:
            path = manifest.parent / entry["name"]
            if not path.is_file():
                problems.append(f"{path}: missing")
            elif hashlib.sha256(path.read_bytes()).hexdigest() != entry["sha256"]:
                problems.append(f"{path}: not the file its manifest describes")
    return problems


class Watcher:
    """Another process opening the published warehouse read-only every half second."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.seen: list[Snapshot] = []
        self.errors: list[str] = []

    def __enter__(self) -> Watcher:
        self.process = _client(self.path, "poll")
        return self

    def __exit__(self, *exc: object) -> None:
        output, _ = self.process.communicate(input="", timeout=60)
        for line in output.splitlines():
            payload = json.loads(line)
            if "error" in payload:
                self.errors.append(payload["error"])
            else:
                self.seen.append(payload)


@dataclass
class Attempt:
    returncode: int
    killed_after: str | None
    seconds: float
    log_tail: str


def run_night(settings: Settings, kill_when: Callable[[str, list[str]], bool] | None) -> Attempt:
    """Run the nightly job in a child process; SIGKILL its process group once ``kill_when``
    (called with each log line and the steps started so far) says so."""
    env = {**os.environ, **settings.as_env(), "CRM_DOCS_SITE": "0", "PYTHONUNBUFFERED": "1"}
    started = time.monotonic()
    child = subprocess.Popen(
        [sys.executable, "-m", "orchestration.run", "--log-level", "DEBUG"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
        start_new_session=True,
    )
    assert child.stdout is not None
    steps: list[str] = []
    tail: list[str] = []
    killed_after = None
    for line in child.stdout:
        tail = [*tail, line][-40:]
        if match := STEP_START.search(line):
            steps.append(match.group(1))
        if kill_when is not None and killed_after is None and kill_when(line, steps):
            killed_after = steps[-1] if steps else "start"
            os.killpg(child.pid, signal.SIGKILL)
            break
    child.stdout.close()
    returncode = child.wait(timeout=600)
    return Attempt(returncode, killed_after, time.monotonic() - started, "".join(tail))


def mid_build(line: str, steps: list[str]) -> bool:
    """dbt has built its first models (the load steps are behind us)."""
    return bool(steps) and steps[-1] == "crm_dbt_models" and MATERIALIZED in line


def mid_export(line: str, steps: list[str]) -> bool:
    """The first audience export has been published, the others not yet."""
    return bool(steps) and steps[-1].startswith("exports__") and MATERIALIZED in line


def kill_scenario(yesterday: Settings, tonight: Settings) -> list[str]:
    """Runs the three nights of the module docstring; returns one line per run for a report.
    ``yesterday`` is a finished night whose files ``tonight`` (same folders) must not harm."""
    published = tonight.warehouse_path
    before_exports = file_hashes(yesterday.export_dir)
    bi = HeldConnection(published)  # a dashboard left open all night
    lines = []
    try:
        before = bi.snapshot()
        assert before["as_of"] == yesterday.as_of_date.isoformat()

        for name, condition in (("mid-build", mid_build), ("mid-export", mid_export)):
            with Watcher(published) as watcher:
                attempt = run_night(tonight, condition)
            assert attempt.killed_after is not None, f"{name}: never reached\n{attempt.log_tail}"
            assert attempt.returncode == -signal.SIGKILL
            assert watcher.errors == [], watcher.errors
            assert watcher.seen and all(s == before for s in watcher.seen)
            assert bi.snapshot() == before  # the open connection still reads yesterday
            assert read_published(published) == before  # and so does a new one
            now = file_hashes(yesterday.export_dir)
            assert {k: now.get(k) for k in before_exports} == before_exports
            assert manifests_are_complete(tonight.export_dir) == []
            lines.append(
                f"{name}: killed {attempt.seconds:.0f} s in (step {attempt.killed_after}); "
                f"published warehouse still {before['as_of']}, read by {len(watcher.seen)} "
                "fresh connections meanwhile, exports intact"
            )

        with Watcher(published) as watcher:
            finished = run_night(tonight, None)
        assert finished.returncode == 0, finished.log_tail
        after = read_published(published)
        assert after["as_of"] == tonight.as_of_date.isoformat()
        assert watcher.errors == [], watcher.errors
        assert all(s in (before, after) for s in watcher.seen)  # yesterday or tonight, whole
        assert bi.snapshot() == before  # the connection opened yesterday is undisturbed
        assert manifests_are_complete(tonight.export_dir) == []
        assert (tonight.export_dir / tonight.as_of_date.isoformat()).is_dir()
        switched = sum(s == after for s in watcher.seen)
        lines.append(
            f"next run: finished in {finished.seconds:.0f} s with the BI connection open; "
            f"{len(watcher.seen)} fresh reads saw yesterday {len(watcher.seen) - switched}×, "
            f"tonight {switched}×, never anything else"
        )
    finally:
        bi.close()
    return lines


def _nights(finished_root: Path, root: Path) -> tuple[Settings, Settings]:
    """A copy of a finished night's folder, and the settings of it and of the next night."""
    shutil.copytree(finished_root, root)
    yesterday = settings_for(root, root / "landing")
    return yesterday, replace(yesterday, as_of_date=yesterday.as_of_date + timedelta(days=1))


@pytest.mark.slow
def test_killed_runs_leave_the_published_warehouse_and_exports_intact(shop, tmp_path: Path):
    settings, _ = shop
    yesterday, tonight = _nights(settings.warehouse_path.parent, tmp_path / "shop")
    for line in kill_scenario(yesterday, tonight):
        print(line)


def main(argv: list[str] | None = None) -> int:
    """Repeat the kill scenario on a fresh copy of one finished night, printing each attempt."""
    import argparse
    import tempfile

    from crm.demo import generate_shop
    from orchestration.run import run_nightly

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    os.environ["CRM_DOCS_SITE"] = "0"
    with tempfile.TemporaryDirectory() as scratch:
        first = Path(scratch) / "night1"
        generate_shop(first / "landing", customers=400, days=400, end_date=AS_OF, seed=11)
        assert run_nightly(settings_for(first, first / "landing")).success
        for attempt in range(1, args.repeat + 1):
            started = time.monotonic()
            yesterday, tonight = _nights(first, Path(scratch) / f"attempt{attempt}")
            lines = kill_scenario(yesterday, tonight)
            print(f"attempt {attempt}: passed in {time.monotonic() - started:.0f} s", flush=True)
            for line in lines:
                print(f"  {line}", flush=True)
            shutil.rmtree(Path(scratch) / f"attempt{attempt}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
