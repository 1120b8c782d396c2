-- One row per agent per calendar month: each KPI's value, attainment and score, the total,
-- the grade, the rank in team and in the center, and the bonus. The agent is scored in the
-- team of the last working day of the month; KPIs cover all the agent's days.
with

kpis as (
    select * from {{ ref('agent_month_kpis') }}
),

months as (
    select * from {{ ref('int_agent_months') }}
),

agent_names as (
    select distinct on (agent_id)
        agent_id,
        agent_name
    from {{ ref('agents') }}
    order by agent_id asc, valid_from desc
),

team_names as (
    select distinct
        team_id,
        team_name
    from {{ ref('agents') }}
    where team_id is not null
),

grade_bands as (
    select * from {{ ref('grade_bands') }}
),

pivoted as (
    select
        agent_id,
        month_start,
        {%- for kpi in kpi_definitions() %}
            max(kpi_value) filter (where kpi_code = '{{ kpi.code }}') as {{ kpi.code }}_value,
            max(attainment) filter (where kpi_code = '{{ kpi.code }}') as {{ kpi.code }}_attainment,
            max(score) filter (where kpi_code = '{{ kpi.code }}') as {{ kpi.code }}_score,
        {%- endfor %}
        coalesce(sum(score), 0) as total_score,
        count(*) filter (where is_scored) as scored_kpi_count,
        coalesce(string_agg(kpi_code, ',' order by kpi_code) filter (where is_weight_redistributed), '')
            as unscored_kpis,
        coalesce(sum(weight) filter (where is_weight_redistributed), 0) as weight_redistributed
    from kpis
    group by agent_id, month_start
),

graded as (
    select
        pivoted.*,
        months.team_id,
        months.teams_in_month,
        months.active_days,
        months.working_days,
        months.contacts_handled,
        coalesce(months.qa_severe_defect_count, 0) as qa_severe_defect_count,
        months.working_days >= {{ var('min_working_days_for_rank') }} as is_ranked,
        grade.grade,
        grade.grade_zh
    from pivoted
    inner join months on pivoted.agent_id = months.agent_id and pivoted.month_start = months.month_start
    {{ grade_join('round(pivoted.total_score, 4)', 'months.qa_severe_defect_count') }}
),

final as (
    select
        graded.agent_id,
        graded.team_id,
        agent_names.agent_name,
        team_names.team_name,
        graded.grade,
        graded.grade_zh,
        graded.unscored_kpis,
        graded.weight_redistributed,
        {%- for kpi in kpi_definitions() %}
            graded.{{ kpi.code }}_value,
            graded.{{ kpi.code }}_attainment,
            graded.{{ kpi.code }}_score,
        {%- endfor %}
        round(graded.total_score, 4) as total_score,
        graded.scored_kpi_count,
        graded.teams_in_month,
        graded.active_days,
        graded.working_days,
        graded.contacts_handled,
        graded.qa_severe_defect_count,
        graded.is_ranked,
        -- Equal scores share a rank (1, 1, 3); agents with too few working days are not ranked.
        case
            when graded.is_ranked and graded.team_id is not null
                then rank() over (
                    partition by graded.month_start, graded.team_id, graded.is_ranked
                    order by round(graded.total_score, 4) desc
                )
        end as team_rank,
        case
            when graded.is_ranked
                then rank() over (
                    partition by graded.month_start, graded.is_ranked
                    order by round(graded.total_score, 4) desc
                )
        end as center_rank,
        round({{ var('bonus_base_amount') }} * round(graded.total_score, 4) / 100, 2) as bonus_amount,
        graded.month_start
    from graded
    left join agent_names on graded.agent_id = agent_names.agent_id
    left join team_names on graded.team_id = team_names.team_id
)

select * from final
