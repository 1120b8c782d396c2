-- One row per agent per local day of the surveyed contact. A negative response is a CSAT
-- of 1 or 2; a praise is a response tagged praise.
-- Incremental: the days of the rebuild window (macros/rebuild_window.sql) are recomputed.
{{ config(**rebuilt_by_day('surveys')) }}
with

responses as (
    select * from {{ ref('stg_survey__responses') }}
    {%- if is_incremental() %}
        where business_date >= {{ days_rebuilt_from('surveys') }}
    {%- endif %}
),

final as (
    select
        agent_id,
        business_date,
        count(*) as survey_response_count,
        sum(csat_score) as csat_score_sum,
        count(csat_score) as csat_response_count,
        count(*) filter (where csat_score >= 4) as csat_satisfied_count,
        count(*) filter (where nps_score >= 9) as nps_promoter_count,
        count(*) filter (where nps_score <= 6) as nps_detractor_count,
        count(nps_score) as nps_response_count,
        count(*) filter (where csat_score <= 2) as negative_response_count,
        count(*) filter (where is_praise) as praise_count
    from responses
    group by agent_id, business_date
)

select * from final
