-- One row per rectification item in its latest version.
with

source as (
    select * from {{ source('qa', 'qa_rectifications') }}
),

latest as (
    {{ latest_per_key('source', 'rectification_id', 'updated_at desc, batch_date desc, extracted_at desc') }}
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
        source_system,
        source_object,
        source_position,
        batch_id,
        batch_date,
        content_hash
    from latest
)

select * from final
