{{ config(meta={"dagster": {"ref": {"name": "rfm_group_map"}}}) }}

-- Every cell of every two-axis grid (rf, fm, rm) maps to exactly one RFM group, the map
-- names only known bands and known groups. Returns the cells that break this.
with

recency_bands as (
    select band_code from {{ ref('rfm_recency_bands') }}
),

frequency_bands as (
    select band_code from {{ ref('rfm_frequency_bands') }}
),

monetary_bands as (
    select band_code from {{ ref('rfm_monetary_bands') }}
),

group_map as (
    select * from {{ ref('rfm_group_map') }}
),

rfm_groups as (
    select * from {{ ref('rfm_groups') }}
),

expected_cells as (
    select 'rf' as axes, r.band_code as row_band, f.band_code as column_band
    from recency_bands as r cross join frequency_bands as f
    union all
    select 'fm' as axes, f.band_code as row_band, m.band_code as column_band
    from frequency_bands as f cross join monetary_bands as m
    union all
    select 'rm' as axes, r.band_code as row_band, m.band_code as column_band
    from recency_bands as r cross join monetary_bands as m
),

mapped as (
    select
        expected_cells.axes,
        expected_cells.row_band,
        expected_cells.column_band,
        count(group_map.rfm_group) as groups_mapped
    from expected_cells
    left join group_map
        on
            expected_cells.axes = group_map.axes
            and expected_cells.row_band = group_map.row_band
            and expected_cells.column_band = group_map.column_band
    group by expected_cells.axes, expected_cells.row_band, expected_cells.column_band
),

unknown_cells as (
    select
        group_map.axes,
        group_map.row_band,
        group_map.column_band,
        -1 as groups_mapped
    from group_map
    left join expected_cells
        on
            group_map.axes = expected_cells.axes
            and group_map.row_band = expected_cells.row_band
            and group_map.column_band = expected_cells.column_band
    left join rfm_groups
        on group_map.rfm_group = rfm_groups.rfm_group
    where expected_cells.axes is null or rfm_groups.rfm_group is null
)

select * from mapped where groups_mapped <> 1
union all
select * from unknown_cells
