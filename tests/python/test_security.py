"""No credentials in the repository; connection settings come from the environment only."""

from __future__ import annotations

import re
import subprocess

import yaml

from crm.settings import PROJECT_DIR

#: Shapes of secrets that must never be committed (assignments of a literal, known key formats).
SECRET_SHAPES = [
    re.compile(
        r"""(?i)\b(password|passwd|secret|api[_-]?key|access[_-]?token)\b\s*[:=]\s*['"][^'"\s{]{4,}"""
    ),
    re.compile(r"AKIA[0-9A-Z]{16}"),  # AWS access key id
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    re.compile(r"https://hooks\.slack\.com/services/[A-Za-z0-9/]+"),
    re.compile(r"(?i)(postgres|mysql|snowflake)://[^:\s]+:[^@\s]+@"),  # URL with a password
]


def _tracked_text_files() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files"], cwd=PROJECT_DIR, capture_output=True, text=True, check=True
    ).stdout.split()
    return [name for name in listed if not name.endswith((".png", ".parquet", ".gz", ".duckdb"))]


def test_no_credentials_in_tracked_files():
    found = []
    for name in _tracked_text_files():
        path = PROJECT_DIR / name
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        found += [
            f"{name}: {m.group(0)[:40]}" for shape in SECRET_SHAPES for m in shape.finditer(text)
        ]
    assert found == []


def test_the_dbt_profile_reads_every_setting_from_the_environment():
    profile = yaml.safe_load((PROJECT_DIR / "profiles.yml").read_text(encoding="utf-8"))
    output = profile["crm_warehouse"]["outputs"]["duckdb"]
    assert "env_var('CRM_BUILD_PATH'" in output["path"]
    for key in ("user", "password", "token", "host"):
        assert key not in output


def test_the_secret_shapes_do_catch_secrets():
    # Assembled at run time, so this file itself stays free of them.
    samples = [
        "pass" + 'word = "hunter22"',
        "AKIA" + "ABCDEFGHIJKLMNOP",
        "-----BEGIN RSA " + "PRIVATE KEY-----",
        "postgres://crm:" + "s3cret@db.example/crm",
    ]
    assert all(any(shape.search(text) for shape in SECRET_SHAPES) for text in samples)
