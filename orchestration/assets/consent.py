"""``consent_held_back``: an alert naming whoever the night holds back for unreadable consent.

A warning check on ``export_contacts`` (it never blocks: the exports already leave these people
out, see crm.exports.consent); it fails, and writes an alert, when a rejected members or
suppressions row still stands, naming the customer ids and the files and lines, never content.
"""

import dagster as dg
from dagster_dbt import get_asset_key_for_model

from crm.exports.consent import consent_holds
from orchestration.alerts import Alert, send_alert
from orchestration.assets.transform import crm_dbt_models
from orchestration.resources import WAREHOUSE_POOL, WarehouseResource

CONTACTS_KEY = get_asset_key_for_model([crm_dbt_models], "export_contacts")


@dg.asset_check(
    asset=CONTACTS_KEY,
    name="consent_held_back",
    blocking=False,
    pool=WAREHOUSE_POOL,
    description=(
        "Fails (warning) when a rejected members or suppressions row still stands: the "
        "customers it names are held back from every export until a valid row supersedes it; "
        "an alert names them (customer ids, files and lines)."
    ),
)
def consent_held_back(
    context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource
) -> dg.AssetCheckResult:
    with warehouse.connect() as conn:
        holds = consent_holds(conn)
    if holds:
        alert = Alert(
            title=f"Consent unreadable as of {warehouse.as_of_date}: customers held back",
            what_failed=holds.describe(),
            how_to_rerun=(
                "correct the rejected rows (raw._rejects) and land the corrected file under the "
                "same name, or a later valid row for each customer or address; the customers "
                "are exported again on the next run after that"
            ),
            check="consent_held_back",
            run_id=context.run.run_id,
        )
        path = send_alert(alert, warehouse.to_settings())
        context.log.warning(f"{holds.describe()} (alert written to {path})")
    return dg.AssetCheckResult(
        passed=not holds,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "customers_held_back": dg.MetadataValue.int(len(holds.customers)),
            "customer_ids": dg.MetadataValue.json(list(holds.customers[:100])),
            "rejected_rows": dg.MetadataValue.json(
                [{"feed": f, "file": file, "line": line} for f, file, line in holds.rows[:100]]
            ),
        },
    )
