{#- Keyed hash of personal data (phone numbers, names): equal inputs give equal keys, so
    repeat-contact detection still works, but the value cannot be looked up without the
    secret PII_HASH_KEY, which comes from the environment (var pii_hash_key in
    dbt_project.yml) and never from the repository.
    pgcrypto is not available in the embedded PostgreSQL, so this is sha256(key || value)
    from core PostgreSQL. -#}
{% macro pii_hash(column) -%}
    case
        when nullif(trim({{ column }}), '') is not null
            then encode(sha256(convert_to('{{ var("pii_hash_key") }}' || ':' || trim({{ column }}), 'UTF8')), 'hex')
    end
{%- endmacro %}
