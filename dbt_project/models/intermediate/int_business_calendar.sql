{{ config(indexes=[{'columns': ['calendar_date'], 'unique': true}, {'columns': ['seconds_before']}]) }}
-- One row per calendar day of the center: its working hours in the center's time zone
-- (seed business_hours by ISO weekday), none on a holiday (seed holidays), and the
-- business seconds of all earlier days (seconds_before), so that the business time between
-- two moments is a difference of positions (macros/business_time.sql).
with

hours as (
    select * from {{ ref('business_hours') }}
    where center_code = '{{ var("center_code") }}'
),

holidays as (
    select * from {{ ref('holidays') }}
    where center_code = '{{ var("center_code") }}'
),

days as (
    select generated_day::date as calendar_date
    from generate_series(
        '{{ var("business_calendar_start") }}'::date,
        current_date + interval '{{ var("business_calendar_days_ahead") }} days',
        interval '1 day'
    ) as generated_day
),

working_hours as (
    select
        days.calendar_date,
        holidays.holiday_date is null and hours.opens_at is not null as is_working_day,
        holidays.holiday_name,
        coalesce(hours.opens_at, time '00:00') as opens_local,
        coalesce(hours.closes_at, time '00:00') as closes_local
    from days
    left join hours on extract(isodow from days.calendar_date) = hours.iso_weekday
    left join holidays on days.calendar_date = holidays.holiday_date
),

timed as (
    select
        calendar_date,
        is_working_day,
        holiday_name,
        (calendar_date + opens_local) at time zone '{{ var("center_timezone") }}' as opens_at,
        (calendar_date + closes_local) at time zone '{{ var("center_timezone") }}' as closes_at,
        case
            when is_working_day then extract(epoch from closes_local - opens_local)::bigint
            else 0
        end as business_seconds
    from working_hours
),

final as (
    select
        calendar_date,
        is_working_day,
        holiday_name,
        opens_at,
        closes_at,
        business_seconds,
        coalesce(
            sum(business_seconds) over (
                order by calendar_date rows between unbounded preceding and 1 preceding
            ),
            0
        ) as seconds_before
    from timed
)

select * from final
