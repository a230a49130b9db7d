"""The shop's calendar: day weights (season, weekday, campaigns), campaigns, time sampling.

Times are int64 seconds since 1970-01-01 00:00 of the *JST wall clock* (naive local time),
so ``seconds // 86400`` is the JST calendar day. Day indexes are relative to the calendar's
origin (the first day of the pre-period in which pre-existing members registered).

Events are sampled in "warped time": a Poisson process with rate λ per average day is
uniform on the cumulative day-weight axis, which puts more events in December, in July and
in campaign windows without any loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from crm.demo.columns import draw_from, inverse_cdf_table

SECONDS_PER_DAY = 86_400
EPOCH = date(1970, 1, 1)

#: Demand multiplier per calendar month (Jan..Dec): 歳末 December and summer peaks.
MONTH_FACTORS: tuple[float, ...] = (
    0.95, 0.85, 0.95, 0.95, 0.95, 0.98, 1.15, 1.02, 0.9, 0.95, 1.02, 1.35,
)  # fmt: skip
#: Demand multiplier per weekday (Mon..Sun).
WEEKDAY_FACTORS: tuple[float, ...] = (1.04, 1.0, 0.98, 0.97, 0.93, 0.98, 1.10)
#: Extra demand on payday (the 25th) and the days after it.
PAYDAY_FACTOR = 1.08
#: Relative activity per JST hour of day (evenings busiest).
HOUR_WEIGHTS: tuple[float, ...] = (
    1.2, 0.8, 0.5, 0.3, 0.25, 0.3, 0.6, 1.0, 1.4, 1.7, 1.9, 2.0,
    2.4, 2.1, 1.9, 1.9, 1.9, 2.0, 2.3, 2.6, 3.0, 3.4, 3.5, 2.4,
)  # fmt: skip


@dataclass(frozen=True)
class Campaign:
    """A sale with a coupon code: lifts demand in its window, gives a discount when used."""

    code: str
    slug: str
    start: date
    end: date  # inclusive
    lift: float
    discount_pct: int = 0
    discount_yen: int = 0
    min_subtotal: int = 0


def build_campaigns(first_year: int, last_year: int) -> tuple[Campaign, ...]:
    """The yearly campaigns (初売り, spring, summer/お中元, autumn, Black Friday, 歳末) per year."""
    out: list[Campaign] = []
    for y in range(first_year, last_year + 1):
        out += [
            Campaign(f"HATSUURI{y}", f"hatsuuri_{y}", date(y, 1, 1), date(y, 1, 7), 1.30, 10),
            Campaign(
                f"SPRING{y}",
                f"spring_sale_{y}",
                date(y, 3, 15),
                date(y, 3, 31),
                1.15,
                discount_yen=500,
                min_subtotal=3000,
            ),
            Campaign(f"SUMMER{y}", f"summer_sale_{y}", date(y, 7, 1), date(y, 7, 31), 1.25, 15),
            Campaign(
                f"AUTUMN{y}",
                f"autumn_sale_{y}",
                date(y, 9, 20),
                date(y, 10, 3),
                1.15,
                discount_yen=1000,
                min_subtotal=8000,
            ),
            Campaign(
                f"BLACKFRIDAY{y}", f"black_friday_{y}", date(y, 11, 22), date(y, 11, 30), 1.50, 20
            ),
            Campaign("WINTER10", f"winter_sale_{y}", date(y, 12, 10), date(y, 12, 25), 1.20, 10),
        ]
    return tuple(out)


def epoch_seconds(d: date) -> int:
    """Seconds of ``d`` 00:00 on the naive JST clock."""
    return (d - EPOCH).days * SECONDS_PER_DAY


@dataclass(frozen=True)
class ShopCalendar:
    """Day grid from ``origin`` to ``end`` with weights and campaign lookup."""

    origin: date
    start: date
    end: date
    months: np.ndarray  # 1..12 per day
    order_cum: np.ndarray  # cumulative order weight, len n_days + 1
    acquisition_cum: np.ndarray
    campaign_of_day: np.ndarray  # index into campaigns or -1
    campaigns: tuple[Campaign, ...]
    hour_table: np.ndarray

    @classmethod
    def build(
        cls,
        start: date,
        end: date,
        pre_period_days: int,
        acq_growth: float,
        acq_campaign_boost: float,
    ) -> ShopCalendar:
        origin = start - timedelta(days=pre_period_days)
        n = (end - origin).days + 1
        dates = np.arange(np.datetime64(origin, "D"), np.datetime64(end, "D") + 1)
        months = (dates.astype("datetime64[M]").astype(np.int64) % 12 + 1).astype(np.int8)
        dom = (dates - dates.astype("datetime64[M]")).astype(np.int64) + 1
        weekday = (dates.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday
        w = np.asarray(MONTH_FACTORS)[months - 1] * np.asarray(WEEKDAY_FACTORS)[weekday]
        w = w * np.where((dom >= 25) & (dom <= 27), PAYDAY_FACTOR, 1.0)
        campaigns = build_campaigns(origin.year, end.year)
        campaign_of_day = np.full(n, -1, dtype=np.int16)
        lift = np.ones(n)
        for i, c in enumerate(campaigns):
            lo, hi = (c.start - origin).days, (c.end - origin).days + 1
            if hi <= 0 or lo >= n:
                continue
            lo, hi = max(lo, 0), min(hi, n)
            campaign_of_day[lo:hi] = i
            lift[lo:hi] = c.lift
        w = w * lift
        s = (start - origin).days
        w = w / w[s:].mean()
        years = np.arange(n) / 365.25
        acq = w * (1.0 + acq_growth * years) * np.where(campaign_of_day >= 0, acq_campaign_boost, 1)
        return cls(
            origin=origin,
            start=start,
            end=end,
            months=months,
            order_cum=np.concatenate([[0.0], np.cumsum(w)]),
            acquisition_cum=np.concatenate([[0.0], np.cumsum(acq)]),
            campaign_of_day=campaign_of_day,
            campaigns=campaigns,
            hour_table=inverse_cdf_table(HOUR_WEIGHTS),
        )

    # --- day and second conversions -------------------------------------------------------
    @property
    def n_days(self) -> int:
        return len(self.months)

    @property
    def start_day(self) -> int:
        return (self.start - self.origin).days

    @property
    def end_day(self) -> int:
        return (self.end - self.origin).days

    @property
    def origin_s(self) -> int:
        return epoch_seconds(self.origin)

    @property
    def start_s(self) -> int:
        return epoch_seconds(self.start)

    @property
    def end_s(self) -> int:
        """The last second of the data window (end date 23:59:59)."""
        return epoch_seconds(self.end) + SECONDS_PER_DAY - 1

    def day_of(self, seconds: np.ndarray) -> np.ndarray:
        return (seconds - self.origin_s) // SECONDS_PER_DAY

    def month_label(self, seconds: np.ndarray) -> np.ndarray:
        """Months since 1970-01 (int16) of timestamps on or after the origin."""
        days = np.arange(np.datetime64(self.origin, "D"), np.datetime64(self.end, "D") + 2)
        month_of_day = days.astype("datetime64[M]").astype(np.int16)
        return month_of_day[np.clip(self.day_of(seconds), 0, len(days) - 1)]

    def seconds_of(self, day: np.ndarray, time_of_day: np.ndarray) -> np.ndarray:
        return self.origin_s + day.astype(np.int64) * SECONDS_PER_DAY + time_of_day

    # --- sampling --------------------------------------------------------------------------
    def sample_days(
        self, rng: np.random.Generator, cum: np.ndarray, lo: np.ndarray, hi: np.ndarray
    ) -> np.ndarray:
        """Days in ``[lo, hi)`` drawn with density given by the cumulative weights ``cum``.

        Inverts ``cum`` with a uniform grid finer than the lightest day (one lookup and one
        correction step instead of a binary search per draw).
        """
        a, b = cum[lo], cum[hi]
        return self.day_at(cum, a + rng.random(len(a)) * (b - a), lo, hi)

    def day_at(self, cum: np.ndarray, u: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """The day whose slice of the cumulative weights holds ``u`` (kept in ``[lo, hi)``)."""
        step = float(np.diff(cum).min()) / 2
        grid = np.searchsorted(cum, np.arange(0.0, cum[-1] + step, step), side="right") - 1
        day = grid[np.minimum((u / step).astype(np.int64), len(grid) - 1)]
        day = np.minimum(day, len(cum) - 2)
        day += cum[day + 1] <= u
        return np.clip(day, lo, np.maximum(hi - 1, lo)).astype(np.int64)

    def sample_time_of_day(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Seconds after midnight with the JST hour-of-day profile."""
        hour = draw_from(rng, self.hour_table, n).astype(np.int64)
        return hour * 3600 + rng.integers(0, 3600, n)

    def sample_times(
        self, rng: np.random.Generator, cum: np.ndarray, lo: np.ndarray, hi: np.ndarray
    ) -> np.ndarray:
        """Timestamps (seconds) on days in ``[lo, hi)``, with day weights and hour profile."""
        day = self.sample_days(rng, cum, lo, hi)
        return self.seconds_of(day, self.sample_time_of_day(rng, len(day)))

    def campaign_at(self, seconds: np.ndarray) -> np.ndarray:
        """Campaign index (or -1) at each timestamp."""
        day = np.clip(self.day_of(seconds), 0, self.n_days - 1)
        return self.campaign_of_day[day]
