-- One row per assignee per local day on which tickets fell due. Only tickets due before the
-- CRM watermark (how far the updated_since cursor has been read) count: their outcome is known.
with

tickets as (
    select * from {{ ref('stg_crm__tickets') }}
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
        {{ local_date('tickets.sla_due_at') }} as business_date,
        count(*) as tickets_due_count,
        count(*) filter (where tickets.resolved_at <= tickets.sla_due_at) as tickets_on_time_count
    from tickets
    cross join watermark
    where tickets.sla_due_at < watermark.known_until
    group by 1, 2
)

select * from final
