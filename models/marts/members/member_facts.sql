with

members as (
    select * from {{ ref('stg_shop__members') }}
),

member_ranks as (
    select * from {{ ref('member_ranks') }}
),

joined as (
    select
        members.customer_id,
        {{ as_of_date() }} as as_of_date,
        members.registered_date,
        members.birth_date,
        members.gender,
        members.prefecture,
        members.member_rank,
        member_ranks.rank_order as member_rank_order,
        member_ranks.label_ja as member_rank_label_ja,
        member_ranks.label_en as member_rank_label_en,
        members.is_email_opt_in,
        members.is_sms_opt_in,
        members.is_dm_opt_in,
        members.is_withdrawn,
        cast(members.withdrawn_at as date) as withdrawn_date
    from members
    left join member_ranks
        on members.member_rank = member_ranks.member_rank
),

final as (
    select
        customer_id,
        as_of_date,
        registered_date,
        {{ days_between('registered_date', 'as_of_date') }} as tenure_days,
        {{ age_in_years('birth_date', 'as_of_date') }} as age,
        cast(extract(month from birth_date) as {{ dbt.type_int() }}) as birth_month,
        gender,
        prefecture,
        member_rank,
        member_rank_order,
        member_rank_label_ja,
        member_rank_label_en,
        is_email_opt_in,
        is_sms_opt_in,
        is_dm_opt_in,
        is_withdrawn,
        withdrawn_date
    from joined
)

select * from final
