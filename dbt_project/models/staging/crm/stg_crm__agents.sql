-- One row per agent, from the latest roster snapshot.
with

source as (
    select * from {{ source('crm', 'crm_agents') }}
),

latest as (
    {{ latest_per_key('source', 'agent_id', 'batch_date desc, extracted_at desc') }}
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
    from latest
)

select * from final
