-- One row per channel per KPI per period in which its scoring rule holds: the scorecard's
-- single definition of "the rule in force". A channel's own rule beats 'all'; a later
-- effective_from beats an earlier one. Channel 'all' holds the rules for agents whose
-- channel has none of its own. valid_to is the next change (exclusive) or NULL.
with

scoring as (
    select * from {{ ref('kpi_scoring') }}
),

channels as (
    select distinct channel from scoring
),

change_dates as (
    select distinct effective_from as valid_from from scoring
),

candidates as (
    select
        channels.channel,
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
            partition by channels.channel, change_dates.valid_from, scoring.kpi_code
            order by (scoring.channel = channels.channel) desc, scoring.effective_from desc
        ) as rule_rank
    from channels
    cross join change_dates
    inner join scoring
        on
            scoring.channel in (channels.channel, 'all')
            and change_dates.valid_from >= scoring.effective_from
),

final as (
    select
        channel,
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
        lead(valid_from) over (partition by channel, kpi_code order by valid_from) as valid_to
    from candidates
    where rule_rank = 1
)

select * from final
