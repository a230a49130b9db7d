"""Dagster code for the nightly run: load assets, dbt assets, the job and its resources."""
