-- Every scorecard's weights add up to 100: for each channel and each effective date, the
-- rule in force for every KPI (the channel's own, else 'all') must sum to exactly 100.
with

scoring as (
    select * from {{ ref('kpi_scoring') }}
),

channels as (
    select distinct channel from scoring where channel <> 'all'
),

dates as (
    select distinct effective_from from scoring
),

rules_in_force as (
    select
        channels.channel,
        dates.effective_from as as_of,
        scoring.kpi_code,
        scoring.weight,
        row_number() over (
            partition by channels.channel, dates.effective_from, scoring.kpi_code
            order by (scoring.channel = channels.channel) desc, scoring.effective_from desc
        ) as rule_rank
    from channels
    cross join dates
    inner join scoring
        on scoring.channel in (channels.channel, 'all')
        and scoring.effective_from <= dates.effective_from
)

select channel, as_of, sum(weight) as total_weight
from rules_in_force
where rule_rank = 1
group by channel, as_of
having sum(weight) <> 100
