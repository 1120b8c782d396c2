{#- Keyed hash of personal data (phone numbers, names): equal inputs give equal keys, so
    repeat-contact detection still works, but the value cannot be looked up without the
    secret PII_HASH_KEY. The key is never rendered into SQL (it would then be in the
    compiled SQL, dbt's artifacts and logs, and in the catalog for any role to read): dbt's
    sessions get it as the setting ccp.pii_hash_key (warehouse/dbt_build.py passes it
    through libpq's PGOPTIONS), and a session without it fails (current_setting raises).
    pgcrypto is not available in the embedded PostgreSQL, so this is
    sha256(key || ':' || value) from core PostgreSQL. -#}
{% macro pii_hash(column) -%}
    case
        when nullif(trim({{ column }}), '') is not null
            then encode(sha256(convert_to(current_setting('ccp.pii_hash_key') || ':' || trim({{ column }}), 'UTF8')), 'hex')
    end
{%- endmacro %}
