-- One row per queue per channel per local business day: what was offered, answered and
-- abandoned, and how long answered customers waited. Abandoned contacts have no agent, so
-- they are counted here rather than on agent-days.
-- Incremental: the days of the rebuild window (macros/rebuild_window.sql) are recomputed.
{{ config(**rebuilt_by_day('contacts', indexed=true)) }}
with

contacts as (
    select * from {{ ref('stg_call_center__contacts') }}
    {%- if is_incremental() %}
        where business_date >= {{ days_rebuilt_from('contacts') }}
    {%- endif %}
),

final as (
    select
        queue_name,
        channel,
        count(*) as offered_count,
        count(*) filter (where not is_abandoned) as answered_count,
        count(*) filter (where is_abandoned and queue_seconds > 0) as abandoned_in_queue_count,
        count(*) filter (where is_abandoned and coalesce(queue_seconds, 0) = 0) as abandoned_before_queue_count,
        sum(queue_seconds) filter (where not is_abandoned) as answer_wait_seconds_sum,
        count(queue_seconds) filter (where not is_abandoned) as answer_wait_count,
        business_date
    from contacts
    group by queue_name, channel, business_date
)

select * from final
