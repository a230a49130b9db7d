"""Reject-share thresholds of a landing file (dbt vars ``landing_reject_share_warning`` and
``landing_reject_share_critical`` in ``dbt_project.yml``).

A file with more than the critical share of its rows rejected is refused as a whole (its rows
all go to ``raw._rejects``, the landing gate blocks the night): so many bad rows mean a broken
export, not a few typos. Above the warning share the file loads and the load asset alerts.
"""

from __future__ import annotations

from dataclasses import dataclass

from crm.dbt_vars import dbt_float

WARNING_VAR = "landing_reject_share_warning"
CRITICAL_VAR = "landing_reject_share_critical"
#: Part of the ledger message of a file refused for its reject share (the landing gate finds
#: such refusals by it).
CRITICAL_REFUSAL_MARK = f"above {CRITICAL_VAR}"


def percent(share: float) -> str:
    text = f"{share * 100:.1f}".rstrip("0").rstrip(".")
    return f"{text} %"


@dataclass(frozen=True)
class RejectShares:
    warning: float
    critical: float

    @classmethod
    def from_dbt_project(cls) -> RejectShares:
        return cls(warning=dbt_float(WARNING_VAR), critical=dbt_float(CRITICAL_VAR))

    @staticmethod
    def share(rejected: int, rows: int) -> float:
        return rejected / rows if rows else 0.0

    def above_critical(self, rejected: int, rows: int) -> bool:
        return rows > 0 and self.share(rejected, rows) > self.critical

    def above_warning(self, rejected: int, rows: int) -> bool:
        return rows > 0 and self.share(rejected, rows) > self.warning

    def refusal(self, rejected: int, rows: int) -> str:
        """The refusal message of a file above the critical share."""
        return (
            f"{rejected} of {rows} rows ({percent(self.share(rejected, rows))}) rejected, "
            f"{CRITICAL_REFUSAL_MARK} {percent(self.critical)}"
        )

    def warning_text(self, rejected: int, rows: int) -> str:
        return (
            f"{rejected} of {rows} rows ({percent(self.share(rejected, rows))}) rejected, "
            f"above {WARNING_VAR} {percent(self.warning)}"
        )


#: Thresholds that never refuse a file for its share of rejected rows (a share is at most 1): for
#: looking at the row rules alone (the bad-input corpus, tests of single rules).
ROW_RULES_ONLY = RejectShares(warning=1.0, critical=1.0)
