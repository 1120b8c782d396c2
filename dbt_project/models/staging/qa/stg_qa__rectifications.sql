-- One row per rectification item in its latest version; withheld (is_withheld) when its
-- newest known version was quarantined, as inspections are.
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
    {{ versions_of_changed_keys(source('qa', 'qa_rectifications'), 'qa', 'rectification_id',
        quarantined=source('landing', 'quarantine')) }}
),

latest as (
    {{ latest_per_key('source', 'rectification_id', 'updated_at desc, batch_date desc, extracted_at desc') }}
),

withheld as (
    {{ withheld_keys('latest', 'rectification_id', 'qa_rectifications') }}
),

final as (
    select
        latest.rectification_id,
        latest.inspection_id,
        latest.agent_id,
        latest.due_date,
        latest.closed_at is not null as is_closed,
        latest.closed_at,
        latest.updated_at,
        withheld.rectification_id is not null as is_withheld,
        latest.source_system,
        latest.source_object,
        latest.source_position,
        latest.batch_id,
        latest.batch_date,
        latest.content_hash
    from latest
    left join withheld on latest.rectification_id = withheld.rectification_id
)

select * from final
