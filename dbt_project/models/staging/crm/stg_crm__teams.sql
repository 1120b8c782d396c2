-- One row per team, from the latest roster snapshot.
with

source as (
    select * from {{ source('crm', 'crm_teams') }}
),

ranked as (
    select
        *,
        row_number() over (partition by team_id order by batch_date desc, extracted_at desc) as snapshot_rank
    from source
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
    from ranked
    where snapshot_rank = 1
)

select * from final
