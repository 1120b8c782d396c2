-- One row per agent per quarter and per year, from the monthly scorecards: the total score
-- is the mean of the agent's monthly total scores in the period, the bonus their sum.
-- The grade uses the same bands (excellent needs no severe QA defect in the whole period);
-- ranks use the team of the period's last scored month. KPI values of the period (ratios
-- of the period's sums) are in kpi_rollups.
with

monthly as (
    select * from {{ ref('agent_month_scorecards') }}
),

grade_bands as (
    select * from {{ ref('grade_bands') }}
),

by_period as (
    select
        monthly.*,
        periods.period_type,
        periods.period_start
    from monthly
    {{ periods_of('monthly.month_start', ['quarter', 'year']) }}
),

summed as (
    select
        agent_id,
        period_type,
        period_start,
        (array_agg(team_id order by month_start desc))[1] as team_id,
        (array_agg(team_name order by month_start desc))[1] as team_name,
        max(agent_name) as agent_name,
        count(*) as months_scored,
        round(avg(total_score), 4) as total_score,
        sum(bonus_amount) as bonus_amount,
        sum(working_days) as working_days,
        sum(qa_severe_defect_count) as qa_severe_defect_count
    from by_period
    group by agent_id, period_type, period_start
),

graded as (
    select
        summed.*,
        summed.working_days >= {{ var('min_working_days_for_rank') }} as is_ranked,
        grade.grade,
        grade.grade_zh
    from summed
    {{ grade_join('summed.total_score', 'summed.qa_severe_defect_count') }}
),

final as (
    select
        agent_id,
        team_id,
        agent_name,
        team_name,
        grade,
        grade_zh,
        total_score,
        months_scored,
        working_days,
        qa_severe_defect_count,
        is_ranked,
        case
            when is_ranked and team_id is not null
                then rank() over (partition by period_type, period_start, team_id, is_ranked order by total_score desc)
        end as team_rank,
        case
            when is_ranked
                then rank() over (partition by period_type, period_start, is_ranked order by total_score desc)
        end as center_rank,
        bonus_amount,
        period_type,
        period_start
    from graded
)

select * from final
