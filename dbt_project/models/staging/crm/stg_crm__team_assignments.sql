-- One row per team assignment (an agent in a team from valid_from to valid_to, both
-- inclusive; valid_to NULL while current), from the latest batch that read it.
with

source as (
    select * from {{ source('crm', 'crm_team_assignments') }}
),

latest as (
    {{ latest_per_key('source', 'assignment_id', 'batch_date desc, extracted_at desc') }}
),

final as (
    select
        assignment_id,
        agent_id,
        team_id,
        valid_from,
        valid_to,
        updated_at,
        batch_id,
        batch_date
    from latest
)

select * from final
