{#- One row per blocked channel and address in force on as_of_date. The delivered channel is read
    through the seed suppression_channels; `all`, `*`, an empty channel and any value the seed
    does not know block every channel (fail closed), so such a row becomes one row per channel.
    -#}

with

source as (
    select * from {{ source('shop', 'suppressions') }}
),

channel_aliases as (
    select * from {{ ref('suppression_channels') }}
),

every_channel as (
    select 'email' as channel
    union all
    select 'sms' as channel
    union all
    select 'dm' as channel
),

renamed as (
    select
        nullif(lower(trim(channel)), '') as delivered_channel,
        trim(address) as address,
        suppressed_at,
        nullif(trim(reason), '') as reason,
        _load_id,
        _source_line
    from source
    where suppressed_at < {{ as_of_cutoff() }}
),

understood as (
    select
        renamed.*,
        coalesce(channel_aliases.channel, 'all') as channel_scope,
        renamed.delivered_channel is null
        or channel_aliases.channel is not null as is_channel_understood
    from renamed
    left join channel_aliases
        on renamed.delivered_channel = lower(channel_aliases.delivered_channel)
),

expanded as (
    select
        every_channel.channel,
        understood.address,
        understood.suppressed_at,
        understood.reason,
        understood.delivered_channel,
        understood.is_channel_understood,
        row_number() over (
            partition by every_channel.channel, understood.address
            order by
                understood.suppressed_at desc,
                understood._load_id desc,
                understood._source_line desc
        ) as version_rank
    from understood
    inner join every_channel
        on
            understood.channel_scope = every_channel.channel
            or understood.channel_scope = 'all'
),

final as (
    select
        channel,
        address,
        suppressed_at,
        reason,
        delivered_channel,
        is_channel_understood
    from expanded
    where version_rank = 1
)

select * from final
