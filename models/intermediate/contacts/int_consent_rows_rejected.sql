{#- Rejected members and suppressions rows that still stand: a consent change the run could not
    read. Such a row may be an opt-out, a withdrawal or a suppression, so whoever it names is
    held back from every export (export_contacts) until a valid row supersedes it: a later
    valid row of the same customer (members) or address (suppressions), or a later load of the
    same file name (the shop re-delivered the file corrected; its own rejects count instead).
    A row that names nobody (its customer_id or address is empty or unreadable) blocks no one
    here; the landing gate fails the night for the suppressions feed instead. The address
    itself stays out of this schema (no personal data outside raw, staging and exports):
    export_contacts reads it from raw._rejects by the row's load and line. -#}

with

rejects as (
    select * from {{ source('shop', '_rejects') }}
),

ledger as (
    select * from {{ source('shop', '_load_ledger') }}
),

raw_members as (
    select * from {{ source('shop', 'members') }}
),

raw_suppressions as (
    select * from {{ source('shop', 'suppressions') }}
),

consent_rejects as (
    select
        feed,
        load_id,
        source_file,
        coalesce(source_line, 0) as source_line,
        reason,
        case
            when feed = 'members'
                then nullif(trim({{ json_text('raw_record', 'customer_id') }}), '')
        end as customer_id,
        case
            when feed = 'suppressions'
                then nullif(trim({{ json_text('raw_record', 'address') }}), '')
        end as contact_address
    from rejects
    where feed in ('members', 'suppressions')
),

unresolved as (
    select consent_rejects.*
    from consent_rejects
    where
        not exists (
            select 1
            from ledger
            where
                ledger.feed = consent_rejects.feed
                and ledger.source_file = consent_rejects.source_file
                and ledger.load_id > consent_rejects.load_id
                and ledger.status = 'loaded'
        )
        and not exists (
            select 1
            from raw_members
            where
                consent_rejects.feed = 'members'
                and raw_members.customer_id = consent_rejects.customer_id
                and (
                    raw_members._load_id > consent_rejects.load_id
                    or raw_members._load_id = consent_rejects.load_id
                    and raw_members._source_line > consent_rejects.source_line
                )
        )
        and not exists (
            select 1
            from raw_suppressions
            where
                consent_rejects.feed = 'suppressions'
                and trim(raw_suppressions.address) = consent_rejects.contact_address
                and (
                    raw_suppressions._load_id > consent_rejects.load_id
                    or raw_suppressions._load_id = consent_rejects.load_id
                    and raw_suppressions._source_line > consent_rejects.source_line
                )
        )
),

final as (
    select
        feed,
        load_id,
        source_file,
        source_line,
        reason,
        customer_id,
        contact_address is not null as names_contact
    from unresolved
    where customer_id is not null or contact_address is not null
)

select * from final
