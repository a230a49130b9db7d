"""Command line: ``crm-demo-shop --out DIR [--customers N] [--days N] [--end-date YYYY-MM-DD]``."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from crm.demo.generator import generate_shop


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from exc


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="crm-demo-shop",
        description="Write a synthetic Japanese EC shop as landing files (CSV or Parquet).",
    )
    p.add_argument("--out", type=Path, required=True, help="landing directory to write")
    p.add_argument("--customers", type=int, default=3000, help="members incl. prospects")
    p.add_argument("--days", type=int, default=730, help="days of data ending on --end-date")
    p.add_argument(
        "--end-date",
        type=_date,
        default=None,
        help="last day of data (default: today in Asia/Tokyo)",
    )
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--format", choices=("csv", "parquet"), default="csv")
    p.add_argument(
        "--daily-tail-days", type=int, default=0, help="write the last N days as per-day files"
    )
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        help="parallel processes (one chunk of customers each; same output)",
    )
    p.add_argument(
        "--overwrite", action="store_true", help="remove existing files in the feed folders first"
    )
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        summary = generate_shop(
            args.out,
            customers=args.customers,
            days=args.days,
            end_date=args.end_date,
            seed=args.seed,
            file_format=args.format,
            daily_tail_days=args.daily_tail_days,
            workers=args.workers,
            overwrite=args.overwrite,
        )
    except (ValueError, FileExistsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
