-- One row per agent per month: the line of the latest batch that read it (a corrected
-- workbook delivered later replaces the earlier one). The supervisor's free-text comment
-- can name customers, so only whether there was one is kept.
with

source as (
    select * from {{ source('supervisor', 'supervisor_inputs') }}
),

latest as (
    {{ latest_per_key(
        'source',
        'agent_id, month',
        'batch_date desc, extracted_at desc, source_object desc, source_position::integer desc'
    ) }}
),

final as (
    select
        agent_id,
        month as month_start,
        team_id,
        teamwork_rating,
        training_sessions_scheduled,
        training_sessions_attended,
        exam_score,
        discipline_points,
        plan_items_due,
        plan_items_closed_on_time,
        coalesce(comment_text, '') <> '' as has_comment,
        source_system,
        source_object,
        source_position,
        batch_id,
        batch_date,
        content_hash
    from latest
)

select * from final
