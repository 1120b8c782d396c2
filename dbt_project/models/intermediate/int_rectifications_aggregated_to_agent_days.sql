-- One row per agent per day on which QA rectification items fell due, with how many were
-- closed on time (closed on or before the due date, local). Only items due before the QA
-- watermark count: whether they were closed in time is known.
-- Incremental: the days of the rebuild window (macros/rebuild_window.sql) are recomputed;
-- the window starts no later than the first new QA batch, so the days a new watermark makes
-- countable are in it.
{{ config(**rebuilt_by_day('qa')) }}
with

rectifications as (
    select * from {{ ref('stg_qa__rectifications') }}
    where
        is_withheld is not true  -- its newest version was quarantined
        {%- if is_incremental() %}
            and due_date >= {{ days_rebuilt_from('qa') }}
        {%- endif %}
),

batches as (
    select * from {{ ref('stg_landing__batches') }}
),

watermark as (
    select max(batch_date) as known_through from batches
    where source_system = 'qa'
),

final as (
    select
        rectifications.agent_id,
        rectifications.due_date as business_date,
        count(*) as rectifications_due_count,
        count(*) filter (
            where {{ local_date('rectifications.closed_at') }} <= rectifications.due_date
        ) as rectifications_on_time_count
    from rectifications
    cross join watermark
    where rectifications.due_date <= watermark.known_through
    group by 1, 2
)

select * from final
