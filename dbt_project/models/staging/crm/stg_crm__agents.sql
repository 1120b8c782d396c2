-- One row per agent, from the latest roster snapshot.
with

source as (
    select * from {{ source('crm', 'crm_agents') }}
),

ranked as (
    select
        *,
        row_number() over (partition by agent_id order by batch_date desc, extracted_at desc) as snapshot_rank
    from source
),

final as (
    select
        agent_id,
        team_id,
        agent_name,
        primary_channel,
        hired_on,
        left_on,
        updated_at,
        batch_id,
        batch_date
    from ranked
    where snapshot_rank = 1
)

select * from final
