-- One row per rectification item in its latest version.
-- Incremental, as stg_qa__inspections: the versions of the items in the changed batches.
{{ config(
    materialized='incremental',
    unique_key='rectification_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
    post_hook=[
        "{{ refresh_statistics(['batch_date', 'due_date', 'rectification_id'], 'batch_date >= ' ~ batches_rebuilt_from('qa')) }}",
        "{{ delete_keys_without_versions(source('qa', 'qa_rectifications'), 'qa') }}",
        "create index if not exists {{ this.identifier }}_batch_date on {{ this }} (batch_date)",
        "create index if not exists {{ this.identifier }}_key on {{ this }} (rectification_id)",
        "create index if not exists {{ this.identifier }}_due_date on {{ this }} (due_date)",
    ],
) }}

with

source as (
    {{ versions_of_changed_keys(source('qa', 'qa_rectifications'), 'qa', 'rectification_id') }}
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
