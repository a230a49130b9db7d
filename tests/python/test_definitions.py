"""The Dagster definitions: one load asset per feed upstream of the dbt assets, one pool."""

from __future__ import annotations

import dagster as dg
from dagster._core.definitions.assets.graph.asset_graph import AssetGraph

from crm.contract import FEEDS
from orchestration.definitions import defs
from orchestration.resources import WAREHOUSE_POOL


def _asset_graph() -> AssetGraph:
    return defs.resolve_asset_graph()


def test_one_load_asset_per_feed_feeds_the_dbt_sources():
    graph = _asset_graph()
    keys = set(graph.get_all_asset_keys())
    raw_keys = {dg.AssetKey(["raw", feed]) for feed in FEEDS}
    assert raw_keys <= keys
    facts = dg.AssetKey(["marts", "customer_facts"])
    assert facts in keys
    staging_orders = dg.AssetKey(["staging", "stg_shop__orders"])
    assert dg.AssetKey(["raw", "orders"]) in graph.get(staging_orders).parent_keys


def test_dbt_tests_are_asset_checks():
    graph = _asset_graph()
    checks = {key.name for key in graph.asset_check_keys}
    assert "unique_customer_facts_customer_id" in checks
    # the row-level rules of a model (not null, accepted values, ranges) are one test and one
    # check: one scan of the table
    assert "rules_customer_facts" in checks


def test_every_warehouse_writer_is_in_the_warehouse_pool():
    for assets_def in defs.assets or []:
        assert isinstance(assets_def, dg.AssetsDefinition)
        for node in assets_def.node_def.iterate_op_defs():
            assert node.pool == WAREHOUSE_POOL, node.name


def test_nightly_job_selects_everything():
    job = defs.resolve_job_def("nightly")
    graph = _asset_graph()
    assert set(job.asset_layer.asset_graph.get_all_asset_keys()) == set(graph.get_all_asset_keys())
