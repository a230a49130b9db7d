"""Read the business parameters of ``dbt_project.yml`` (its ``vars``) from Python.

``dbt_project.yml`` is the one home of every threshold: the SQL models read them as dbt vars,
Python code (e.g. the loader's reject shares) reads the same values here.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

from crm.settings import PROJECT_DIR

DBT_PROJECT_FILE = PROJECT_DIR / "dbt_project.yml"


@cache
def _project_vars(path: Path) -> dict[str, object]:
    with path.open(encoding="utf-8") as handle:
        project = yaml.safe_load(handle) or {}
    found = project.get("vars") or {}
    if not isinstance(found, dict):
        raise ValueError(f"{path}: 'vars' is not a mapping")
    return found


def dbt_var(name: str, path: Path = DBT_PROJECT_FILE) -> object:
    """The value of the var ``name`` in ``dbt_project.yml``; KeyError when it is not there."""
    found = _project_vars(path)
    if name not in found:
        raise KeyError(f"{path} has no var {name!r}")
    return found[name]


def dbt_float(name: str, path: Path = DBT_PROJECT_FILE) -> float:
    """A numeric var as a float; ValueError (naming the var) when it is not a number."""
    value = dbt_var(name, path)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{path}: var {name} must be a number, got {value!r}")
    return float(value)
