-- One row per assignee per local day on which tickets fell due, with how many of them were
-- resolved on time. Due and on time are in business time, or the CRM's own verdict where
-- it gives one (int_tickets_timed_in_business_hours).
-- Only tickets due before the CRM watermark (how far the updated_since cursor has been
-- read) count: their outcome is known.
-- Incremental: the days of the rebuild window (macros/rebuild_window.sql) are recomputed.
{{ config(**rebuilt_by_day('tickets')) }}
with

tickets as (
    select * from {{ ref('int_tickets_timed_in_business_hours') }}
),

batches as (
    select * from {{ ref('stg_landing__batches') }}
),

watermark as (
    select max(interval_end) as known_until from batches
    where source_system = 'crm'
),

final as (
    select
        tickets.assignee_agent_id as agent_id,
        {{ local_date('tickets.kpi_due_at') }} as business_date,
        count(*) as tickets_due_count,
        count(*) filter (where tickets.is_resolved_on_time) as tickets_on_time_count
    from tickets
    cross join watermark
    where
        tickets.kpi_due_at < watermark.known_until
        {%- if is_incremental() %}
            and {{ on_or_after_local_day('tickets.kpi_due_at', days_rebuilt_from('tickets')) }}
        {%- endif %}
    group by 1, 2
)

select * from final
