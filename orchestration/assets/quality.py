"""Quality gates as Dagster asset checks: one multi-check per expectation suite.

Every expectation of a suite (crm/quality/suites) is one asset check ``gx_<name>`` on the
suite's asset (``raw/<feed>`` or the dbt mart). Critical expectations are blocking checks with
severity ERROR: when one fails, the downstream assets of the run (dbt models, exports, the
publication) are skipped and an alert names the check. Warnings have severity WARN and never
block. Each suite's result is kept as JSON in ``quality/<as-of date>/`` beside the warehouse,
with an HTML summary of the night.

A raw suite validates only the keys touched by loads its gate has not passed yet; when it has no
critical failure, its feed's latest load is marked in ``quality.gated_loads`` (see
:mod:`crm.quality.runner`; ``CRM_QUALITY_FULL=1`` validates every row).
"""

from datetime import date
from pathlib import Path

import dagster as dg
from dagster import AssetCheckExecutionContext
from dagster_dbt import get_asset_key_for_model

from crm.personal_data import mask_statistics
from crm.quality.report import write_night_report
from crm.quality.runner import (
    ExpectationResult,
    SuiteResult,
    quality_dir_for,
    record_gated_load,
    record_rfm_shares,
    run_suite,
    write_result,
)
from crm.quality.suites import ALL_SUITES, Suite
from crm.quality.suites.marts import CUSTOMER_RFM
from orchestration.alerts import Alert, send_alert
from orchestration.assets.transform import crm_dbt_models
from orchestration.resources import WAREHOUSE_POOL, WarehouseResource

RERUN_RAW = (
    "fix the landing file (or land a corrected file: a later version of the same keys replaces "
    "the bad rows), then `make run` or re-execute the nightly job from the Dagster UI"
)
RERUN_MART = (
    "fix the model or its input data, then `make run` or re-execute the nightly job from the "
    "Dagster UI"
)


def suite_asset_key(suite: Suite) -> dg.AssetKey:
    kind, name = suite.target
    if kind == "raw":
        return dg.AssetKey(["raw", name])
    return get_asset_key_for_model([crm_dbt_models], name)


#: The marts whose suites gate the exports and the publication (the exports depend on them).
GATED_MART_KEYS: list[dg.AssetKey] = [
    suite_asset_key(s) for s in ALL_SUITES if s.target[0] == "model"
]


def _value(value: object) -> dg.MetadataValue:
    if isinstance(value, bool):
        return dg.MetadataValue.bool(value)
    if isinstance(value, int):
        return dg.MetadataValue.int(value)
    if isinstance(value, float):
        return dg.MetadataValue.float(value)
    if isinstance(value, (list, dict)):
        return dg.MetadataValue.json(value)
    return dg.MetadataValue.text(str(value))


def check_metadata(result: ExpectationResult, json_path: Path) -> dict[str, dg.MetadataValue]:
    metadata: dict[str, dg.MetadataValue] = {
        "severity": dg.MetadataValue.text(result.severity),
        "expectation": dg.MetadataValue.text(result.type),
        "frame": dg.MetadataValue.text(result.frame),
        "kwargs": dg.MetadataValue.json(result.kwargs),
        "evaluated": dg.MetadataValue.int(int(result.statistics.get("element_count") or 0)),
        "result_json": dg.MetadataValue.path(str(json_path)),
    }
    for key in ("unexpected_count", "unexpected_percent", "missing_count", "observed_value"):
        if result.statistics.get(key) is not None:
            metadata[key] = _value(mask_statistics(result.statistics, result.kwargs)[key])
    statistics = mask_statistics(result.statistics, result.kwargs)  # no personal sample
    if statistics.get("partial_unexpected_list"):
        metadata["unexpected_sample"] = dg.MetadataValue.json(statistics["partial_unexpected_list"])
    if result.exception:
        metadata["exception"] = dg.MetadataValue.text(result.exception)
    return metadata


def gate_alert(suite: Suite, asset_key: dg.AssetKey, result: SuiteResult, run_id: str) -> Alert:
    failures = result.critical_failures
    what = "; ".join(
        f"{r.check_name} ({r.description}: "
        f"{r.statistics.get('unexpected_count', r.statistics.get('observed_value', '?'))} "
        "unexpected)"
        for r in failures
    )
    return Alert(
        title=f"Quality gate failed on {asset_key.to_user_string()} as of {result.as_of_date}: "
        "exports and publication skipped, yesterday's files kept",
        what_failed=f"critical expectation(s) of suite {suite.name}: {what}",
        how_to_rerun=RERUN_RAW if suite.target[0] == "raw" else RERUN_MART,
        asset=asset_key.to_user_string(),
        check=", ".join(r.check_name for r in failures),
        run_id=run_id,
    )


def build_suite_check(suite: Suite) -> dg.AssetChecksDefinition:
    asset_key = suite_asset_key(suite)
    specs = [
        dg.AssetCheckSpec(
            expectation.check_name,
            asset=asset_key,
            blocking=expectation.critical,
            description=f"[{expectation.severity}] {expectation.description}",
            metadata={"suite": suite.name, "severity": expectation.severity},
        )
        for expectation in suite.expectations
    ]

    @dg.multi_asset_check(
        specs=specs,
        name=f"quality_{suite.name}",
        description=f"Great Expectations suite {suite.name}: {suite.description}",
        pool=WAREHOUSE_POOL,
        compute_kind="great_expectations",
    )
    def _check(context: AssetCheckExecutionContext, warehouse: WarehouseResource):
        as_of = date.fromisoformat(warehouse.as_of_date)
        build_path = Path(warehouse.build_path)
        result = run_suite(build_path, suite, as_of, run_id=context.run.run_id)
        quality_dir = quality_dir_for(build_path)
        json_path = write_result(result, quality_dir)
        report = write_night_report(quality_dir, result.as_of_date)
        if suite is CUSTOMER_RFM:
            record_rfm_shares(build_path, as_of)
        if result.scope is not None:
            context.log.info(f"{suite.name}: validated {result.scope.reason}")
            if record_gated_load(build_path, result):
                context.log.info(
                    f"{suite.name}: loads up to {result.scope.through_load_id} passed the gate"
                )
        for failure in result.warning_failures:
            context.log.warning(f"{suite.name}: warning {failure.check_name} failed")
        if result.critical_failures:
            alert = gate_alert(suite, asset_key, result, context.run.run_id)
            log = send_alert(alert, warehouse.to_settings())
            context.log.error(f"{alert.render()}\n(alert written to {log}; report {report})")
        for expectation in result.results:
            yield dg.AssetCheckResult(
                asset_key=asset_key,
                check_name=expectation.check_name,
                passed=expectation.success,
                severity=(
                    dg.AssetCheckSeverity.ERROR
                    if expectation.critical
                    else dg.AssetCheckSeverity.WARN
                ),
                description=expectation.description,
                metadata=check_metadata(expectation, json_path),
            )

    return _check


quality_checks: list[dg.AssetChecksDefinition] = [build_suite_check(s) for s in ALL_SUITES]
