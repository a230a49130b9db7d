"""Suppressions: addresses the mail, SMS and DM tools must not contact any more.

A small share of members: bounced, unsubscribed or complaining e-mail addresses, SMS numbers
that opted out or bounce, and postal DM recipients (by customer id) whose mail came back.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from crm.demo.columns import categorical, timestamps
from crm.demo.params import ShopParams
from crm.demo.people import MemberRecords

SUPPRESSION_CHANNELS: tuple[str, ...] = ("email", "sms", "dm")
EMAIL, SMS, DM = range(3)
SUPPRESSION_REASONS: tuple[str, ...] = (
    "unsubscribe",
    "bounce",
    "complaint",
    "returned_mail",
    "manual",
)
UNSUBSCRIBE, BOUNCE, COMPLAINT, RETURNED_MAIL, MANUAL = range(5)
#: Shares of SMS suppressions that are opt-outs (the rest bounce) and of DM suppressions that
#: are returned mail (the rest are manual blocks).
SMS_UNSUBSCRIBE_SHARE = 0.7
DM_RETURNED_MAIL_SHARE = 0.7


@dataclass(frozen=True)
class SuppressionRecords:
    channel: np.ndarray  # index into SUPPRESSION_CHANNELS
    address: pa.Array
    suppressed_at: np.ndarray
    reason: np.ndarray  # index into SUPPRESSION_REASONS


def build_suppressions(
    rng: np.random.Generator,
    rec: MemberRecords,
    customer_id: pa.Array,
    end_s: int,
    params: ShopParams,
) -> SuppressionRecords:
    """Blocked e-mail addresses, phone numbers and DM recipients of a small share of members."""
    n = len(rec.registered_at)
    u = rng.random(n)
    bounce = params.email_bounce_share
    unsub = bounce + params.email_unsubscribe_share
    complaint = unsub + params.email_complaint_share
    email_reason = np.select(
        [u < bounce, u < unsub, u < complaint], [BOUNCE, UNSUBSCRIBE, COMPLAINT], -1
    )
    email_rows = np.flatnonzero((email_reason >= 0) & pc.is_valid(rec.email).to_numpy(False))
    sms_rows = np.flatnonzero((rng.random(n) < params.sms_suppression_share) & rec.phone_valid)
    sms_reason = np.where(rng.random(len(sms_rows)) < SMS_UNSUBSCRIBE_SHARE, UNSUBSCRIBE, BOUNCE)
    dm_rows = np.flatnonzero(rng.random(n) < params.dm_suppression_share)
    dm_reason = np.where(rng.random(len(dm_rows)) < DM_RETURNED_MAIL_SHARE, RETURNED_MAIL, MANUAL)
    rows = np.concatenate([email_rows, sms_rows, dm_rows])
    channel = np.repeat([EMAIL, SMS, DM], [len(email_rows), len(sms_rows), len(dm_rows)])
    reason = np.concatenate([email_reason[email_rows], sms_reason, dm_reason])
    address = pa.concat_arrays(
        [
            pc.take(rec.email, pa.array(email_rows)),
            pc.take(rec.phone, pa.array(sms_rows)),
            pc.take(customer_id, pa.array(dm_rows)),
        ]
    )
    reg = rec.registered_at[rows]
    last = np.minimum(rec.withdrawn_at[rows], end_s)
    at = reg + (rng.random(len(rows)) * np.maximum(last - reg, 1)).astype(np.int64)
    at = np.minimum(at, end_s)
    return SuppressionRecords(channel, address, at, reason)


def suppression_table(rec: SuppressionRecords, rows: np.ndarray, cutoff: int) -> pa.Table:
    del cutoff  # suppressions never change
    return pa.table(
        {
            "channel": categorical(SUPPRESSION_CHANNELS, rec.channel[rows]),
            "address": pc.take(rec.address, pa.array(rows)),
            "suppressed_at": timestamps(rec.suppressed_at[rows]),
            "reason": categorical(SUPPRESSION_REASONS, rec.reason[rows]),
        }
    )
