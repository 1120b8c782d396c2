-- One row per team, from the latest roster snapshot.
with

source as (
    select * from {{ source('crm', 'crm_teams') }}
),

latest as (
    {{ latest_per_key('source', 'team_id', 'batch_date desc, extracted_at desc') }}
),

final as (
    select
        team_id,
        team_name,
        business_line,
        supervisor_name,
        lead_name,
        updated_at,
        batch_id,
        batch_date
    from latest
)

select * from final
