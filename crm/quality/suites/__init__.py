"""The expectation suites of the warehouse, kept in the repository as Python data.

Every suite names the asset it guards, the frames it reads (SQL run through a read-only
connection) and its expectations. Each expectation is **critical** (a failed critical
expectation is a blocking Dagster asset check with severity ERROR: the downstream assets, the
exports and the publication of that run are skipped and an alert is written) or a **warning**
(severity WARN: shown, never blocking). The tolerances are the ``TOLERANCES`` of
:mod:`crm.quality.suites.raw` and :mod:`crm.quality.suites.marts`; edit them there.
"""

from __future__ import annotations

from crm.quality.suites.marts import MART_SUITES
from crm.quality.suites.raw import RAW_SUITES
from crm.quality.suites.spec import CRITICAL, WARNING, Expectation, Suite

ALL_SUITES: tuple[Suite, ...] = (*RAW_SUITES, *MART_SUITES)

__all__ = ["ALL_SUITES", "CRITICAL", "MART_SUITES", "RAW_SUITES", "WARNING", "Expectation", "Suite"]
