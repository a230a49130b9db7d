"""The deterministic holdout (control) group of an audience."""

from __future__ import annotations

import hashlib


def holdout_fraction(audience: str, customer_id: str) -> float:
    """A stable number in [0, 1) for this customer in this audience.

    The first 8 bytes of sha256("<audience>:<customer_id>") as an unsigned integer / 2**64. It
    depends on nothing else (not the date, the channel or the other members), so a customer is
    held out of every export of an audience, night after night, and is independently drawn for
    each audience.
    """
    digest = hashlib.sha256(f"{audience}:{customer_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def is_held_out(audience: str, customer_id: str, share: float) -> bool:
    return holdout_fraction(audience, customer_id) < share
