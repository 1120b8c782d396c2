-- One row per agent, from the latest roster snapshot.
-- Incremental: a build reads the changed batches' versions and each of their keys' newest
-- version before them (macros/rebuild_window.sql), not every snapshot landed.
{{ config(
    materialized='incremental',
    unique_key='agent_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
    post_hook=[
        "{{ delete_keys_without_versions(source('crm', 'crm_agents'), 'crm') }}",
        "create index if not exists {{ this.identifier }}_batch_date on {{ this }} (batch_date)",
        "create index if not exists {{ this.identifier }}_agent_id on {{ this }} (agent_id)",
        "create index if not exists {{ this.identifier }}_team_id on {{ this }} (team_id)",
    ],
) }}

{%- set order_by = 'batch_date desc, extracted_at desc, source_object desc, source_position desc' %}
with

source as (
    {{ newest_versions_of_changed_keys(source('crm', 'crm_agents'), 'crm', 'agent_id', order_by) }}
),

latest as (
    {{ latest_per_key('source', 'agent_id', order_by) }}
),

final as (
    select
        agent_id,
        team_id,
        agent_name,
        primary_channel,
        hired_on,
        left_on,
        updated_at,
        source_system,
        source_position,
        batch_id,
        batch_date
    from latest
)

select * from final
