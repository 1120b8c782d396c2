-- One row per survey response. business_date is the local day of the contact the response
-- is about. The free-text comment never leaves raw: only whether there was one.
-- Incremental: a build re-reads every version of each response found in the batches landed
-- since the last build (or whose built row came from them) and keeps its latest.
{{ config(
    materialized='incremental',
    unique_key='response_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
    post_hook=[
        "{{ refresh_statistics(['batch_date', 'business_date', 'response_id'], 'batch_date >= ' ~ batches_rebuilt_from('survey')) }}",
        "{{ delete_keys_without_versions(source('survey', 'survey_responses'), 'survey') }}",
        "create index if not exists {{ this.identifier }}_batch_date on {{ this }} (batch_date)",
        "create index if not exists {{ this.identifier }}_key on {{ this }} (response_id)",
        "create index if not exists {{ this.identifier }}_business_date on {{ this }} (business_date)",
    ],
) }}

with

source as (
    {{ versions_of_changed_keys(source('survey', 'survey_responses'), 'survey', 'response_id') }}
),

latest as (
    {{ latest_per_key('source', 'response_id', 'batch_date desc, extracted_at desc, source_position::integer desc') }}
),

final as (
    select
        response_id,
        contact_id,
        agent_id,
        channel,
        csat_score,
        nps_score,
        coalesce(comment_text, '') <> '' as has_comment,
        'praise' = any(string_to_array(tags, ',')) as is_praise,
        'complaint' = any(string_to_array(tags, ',')) as is_complaint,
        {{ local_date('contact_at') }} as business_date,
        contact_at,
        responded_at,
        source_system,
        source_object,
        source_position,
        batch_id,
        batch_date,
        content_hash
    from latest
)

select * from final
