-- One row per agent per local day on which complaints caused by that agent were raised.
-- Incremental: the days of the rebuild window (macros/rebuild_window.sql) are recomputed.
{{ config(**rebuilt_by_day('tickets')) }}
with

tickets as (
    select * from {{ ref('stg_crm__tickets') }}
    where is_withheld is not true  -- its newest version was quarantined
),

final as (
    select
        complained_agent_id as agent_id,
        {{ local_date('created_at') }} as business_date,
        count(*) as complaint_count
    from tickets
    where
        is_complaint
        and complaint_cause = 'agent'
        and complained_agent_id is not null
        {%- if is_incremental() %}
            and {{ on_or_after_local_day('created_at', days_rebuilt_from('tickets')) }}
        {%- endif %}
    group by 1, 2
)

select * from final
