-- One row per agent per local day on which complaints caused by that agent were raised.
with

tickets as (
    select * from {{ ref('stg_crm__tickets') }}
),

final as (
    select
        complained_agent_id as agent_id,
        {{ local_date('created_at') }} as business_date,
        count(*) as complaint_count
    from tickets
    where is_complaint and complaint_cause = 'agent' and complained_agent_id is not null
    group by 1, 2
)

select * from final
