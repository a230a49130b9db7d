"""Quality gates: expectation suites for the raw feeds and key marts, run with Great
Expectations on pandas frames read through a read-only DuckDB connection.

See :mod:`crm.quality.suites` (what is checked, critical vs warning, tolerances),
:mod:`crm.quality.runner` (how, and where the JSON results go), :mod:`crm.quality.report` (the
HTML summaries) and :mod:`crm.quality.publish` (the published copy for BI readers).
"""
