-- One row per agent per local day of the surveyed contact.
with

responses as (
    select * from {{ ref('stg_survey__responses') }}
),

final as (
    select
        agent_id,
        business_date,
        sum(csat_score) as csat_score_sum,
        count(csat_score) as csat_response_count,
        count(*) filter (where csat_score >= 4) as csat_satisfied_count,
        count(*) filter (where nps_score >= 9) as nps_promoter_count,
        count(*) filter (where nps_score <= 6) as nps_detractor_count,
        count(nps_score) as nps_response_count
    from responses
    group by agent_id, business_date
)

select * from final
