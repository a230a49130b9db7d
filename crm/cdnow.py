"""Convert the CDNOW purchase history (Fader & Hardie) into a landing area per the contract.

CDNOW_master.txt has one line per purchase: customer id, date (YYYYMMDD), number of CDs and
dollar value. Each line becomes one order (``order_id`` = ``<customer>-<line>``), dated at
midnight JST, with the dollar value as ``total_amount`` and no other feeds. Amounts keep their
cents (the loader accepts decimals), so net sales stay comparable with the source.

    python -m crm.cdnow --source tests/data/cdnow/CDNOW_master.txt --out /tmp/cdnow_landing
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

DEFAULT_SOURCE = (
    Path(__file__).resolve().parent.parent / "tests" / "data" / "cdnow" / "CDNOW_master.txt"
)


def read_cdnow(source: Path) -> list[tuple[str, str, int, str]]:
    """(customer_id, YYYY-MM-DD, number_of_cds, dollar_value) per purchase line of the file."""
    rows: list[tuple[str, str, int, str]] = []
    with source.open(encoding="ascii") as handle:
        for number, line in enumerate(handle, start=1):
            fields = line.split()
            if not fields or fields[0] == "customer_id":
                continue
            if len(fields) != 4:
                raise ValueError(f"{source}:{number}: expected 4 fields, found {len(fields)}")
            customer, day, cds, dollars = fields
            rows.append((customer, f"{day[:4]}-{day[4:6]}-{day[6:]}", int(cds), dollars))
    return rows


def convert(source: Path, out_dir: Path) -> Path:
    """Write ``<out_dir>/orders/cdnow_orders.csv``; returns the file written."""
    orders_dir = out_dir / "orders"
    orders_dir.mkdir(parents=True, exist_ok=True)
    target = orders_dir / "cdnow_orders.csv"
    with target.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["order_id", "customer_id", "ordered_at", "status", "total_amount"])
        for number, (customer, day, _cds, dollars) in enumerate(read_cdnow(source), start=1):
            writer.writerow(
                [f"{customer}-{number}", customer, f"{day} 00:00:00", "delivered", dollars]
            )
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    target = convert(args.source, args.out)
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
