-- One row per rectification item in its latest version.
with

source as (
    select * from {{ source('qa', 'qa_rectifications') }}
),

ranked as (
    select
        *,
        row_number() over (
            partition by rectification_id
            order by updated_at desc, batch_date desc, extracted_at desc
        ) as version_rank
    from source
),

final as (
    select
        rectification_id,
        inspection_id,
        agent_id,
        due_date,
        closed_at is not null as is_closed,
        closed_at,
        updated_at,
        batch_id,
        batch_date
    from ranked
    where version_rank = 1
)

select * from final
