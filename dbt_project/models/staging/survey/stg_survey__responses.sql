-- One row per survey response. business_date is the local day of the contact the response
-- is about. The free-text comment never leaves raw: only whether there was one.
with

source as (
    select * from {{ source('survey', 'survey_responses') }}
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
