-- One row per team assignment (an agent in a team from valid_from to valid_to, both
-- inclusive; valid_to NULL while current), from the latest batch that read it.
-- Incremental: a build reads the changed batches' versions and each of their keys' newest
-- version before them (macros/rebuild_window.sql), not every snapshot landed.
{{ config(
    materialized='incremental',
    unique_key='assignment_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
    post_hook=[
        "{{ delete_keys_without_versions(source('crm', 'crm_team_assignments'), 'crm') }}",
        "create index if not exists {{ this.identifier }}_batch_date on {{ this }} (batch_date)",
        "create index if not exists {{ this.identifier }}_assignment_id on {{ this }} (assignment_id)",
        "create index if not exists {{ this.identifier }}_agent_id on {{ this }} (agent_id)",
    ],
) }}

{%- set order_by = 'batch_date desc, extracted_at desc, source_object desc, source_position desc' %}
with

source as (
    {{ newest_versions_of_changed_keys(source('crm', 'crm_team_assignments'), 'crm', 'assignment_id', order_by) }}
),

latest as (
    {{ latest_per_key('source', 'assignment_id', order_by) }}
),

final as (
    select
        assignment_id,
        agent_id,
        team_id,
        valid_from,
        valid_to,
        updated_at,
        source_system,
        source_position,
        batch_id,
        batch_date
    from latest
)

select * from final
