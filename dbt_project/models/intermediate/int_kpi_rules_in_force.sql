-- One row per scorecard scope (team, channel) per KPI per period in which its scoring
-- rule holds: the single definition of "the rule in force". The most specific rule wins:
-- a team's own rule beats the all-teams rule, a channel's own rule beats 'all'; among
-- equally specific rules the latest effective_from wins. Scope team_id '*' holds the rules
-- of teams without overrides, channel 'all' those of channels without their own.
-- valid_to is the next change (exclusive) or NULL.
with

scoring as (
    select
        kpi_code,
        coalesce(nullif(trim(team_id), ''), '*') as team_id,
        channel,
        effective_from,
        weight,
        direction,
        target,
        floor,
        band_low,
        band_high,
        band_falloff,
        -- An empty cap is the project default (var default_attainment_cap, 120%).
        coalesce(cap, {{ var('default_attainment_cap') }}) as cap,
        min_sample
    from {{ ref('kpi_scoring') }}
),

teams as (
    select distinct team_id from scoring
),

channels as (
    select distinct channel from scoring
),

change_dates as (
    select distinct effective_from as valid_from from scoring
),

candidates as (
    select
        teams.team_id as scope_team_id,
        channels.channel as scope_channel,
        change_dates.valid_from,
        scoring.kpi_code,
        scoring.weight,
        scoring.direction,
        scoring.target,
        scoring.floor,
        scoring.band_low,
        scoring.band_high,
        scoring.band_falloff,
        scoring.cap,
        scoring.min_sample,
        row_number() over (
            partition by teams.team_id, channels.channel, change_dates.valid_from, scoring.kpi_code
            order by
                (scoring.team_id = teams.team_id) desc,
                (scoring.channel = channels.channel) desc,
                scoring.effective_from desc
        ) as rule_rank
    from teams
    cross join channels
    cross join change_dates
    inner join scoring
        on
            scoring.team_id in (teams.team_id, '*')
            and scoring.channel in (channels.channel, 'all')
            and change_dates.valid_from >= scoring.effective_from
),

in_force as (
    select * from candidates
    where rule_rank = 1
),

final as (
    -- Consecutive periods with the same rule are not merged: valid_from/valid_to delimit
    -- each change date's rule set, which is what the weights test checks.
    select
        scope_team_id as team_id,
        scope_channel as channel,
        kpi_code,
        direction,
        weight,
        target,
        floor,
        band_low,
        band_high,
        band_falloff,
        cap,
        min_sample,
        valid_from,
        lead(valid_from) over (
            partition by scope_team_id, scope_channel, kpi_code order by valid_from
        ) as valid_to
    from in_force
)

select * from final
