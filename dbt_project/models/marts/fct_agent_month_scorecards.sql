-- One row per agent per calendar month: each KPI's value, attainment and score, the total,
-- the grade, the rank in team and in the center, and the bonus.
{%- set kpis = ['first_response_time', 'average_handle_time', 'first_contact_resolution',
                'ticket_on_time_rate', 'qa_score', 'complaint_rate', 'csat', 'nps'] %}
with

kpis as (
    select * from {{ ref('fct_agent_month_kpis') }}
),

months as (
    select * from {{ ref('int_agent_days_rolled_up_to_months') }}
),

agents as (
    select * from {{ ref('dim_agents') }}
),

grade_bands as (
    select * from {{ ref('grade_bands') }}
),

pivoted as (
    select
        agent_id,
        month_start,
        {%- for kpi in kpis %}
            max(kpi_value) filter (where kpi_code = '{{ kpi }}') as {{ kpi }}_value,
            max(attainment) filter (where kpi_code = '{{ kpi }}') as {{ kpi }}_attainment,
            max(score) filter (where kpi_code = '{{ kpi }}') as {{ kpi }}_score,
        {%- endfor %}
        coalesce(sum(score), 0) as total_score,
        count(*) filter (where is_scored) as scored_kpi_count,
        coalesce(string_agg(kpi_code, ',' order by kpi_code) filter (where not is_scored), '') as unscored_kpis
    from kpis
    group by agent_id, month_start
),

graded as (
    select
        pivoted.*,
        months.active_days,
        months.contacts_handled,
        months.qa_severe_defect_count,
        agents.team_id,
        agents.agent_name,
        agents.team_name,
        grade.grade,
        grade.grade_zh
    from pivoted
    inner join months on pivoted.agent_id = months.agent_id and pivoted.month_start = months.month_start
    left join agents on pivoted.agent_id = agents.agent_id
    cross join lateral (
        -- Excellent also needs no severe QA defect in the month.
        select
            grade_bands.grade,
            grade_bands.grade_zh
        from grade_bands
        where
            grade_bands.min_total_score <= pivoted.total_score
            and (grade_bands.grade <> 'excellent' or months.qa_severe_defect_count = 0)
        order by grade_bands.min_total_score desc
        limit 1
    ) as grade
),

final as (
    select
        agent_id,
        team_id,
        agent_name,
        team_name,
        grade,
        grade_zh,
        unscored_kpis,
        {%- for kpi in kpis %}
            {{ kpi }}_value,
            {{ kpi }}_attainment,
            {{ kpi }}_score,
        {%- endfor %}
        round(total_score, 4) as total_score,
        scored_kpi_count,
        active_days,
        contacts_handled,
        qa_severe_defect_count,
        row_number() over (partition by month_start, team_id order by total_score desc, agent_id asc) as team_rank,
        row_number() over (partition by month_start order by total_score desc, agent_id asc) as center_rank,
        round({{ var('bonus_base_amount') }} * total_score / 100, 2) as bonus_amount,
        month_start
    from graded
)

select * from final
