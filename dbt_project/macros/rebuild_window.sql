{#- The window an incremental model rebuilds, from the daily build (warehouse/build_window.py).
    Without it (a new warehouse, a build by hand) the window is everything: '-infinity'. -#}

{#- A value of the daily build: its window and run id, which warehouse/dbt_build.py passes
    as JSON in CCP_DBT_BUILD. Read only when executing, never while parsing: a new window
    each day as --vars would make dbt parse the whole project again on every run (~2-3 s);
    this way its partial parsing holds. -#}
{% macro build_parameters() -%}
    {{- return(fromjson(env_var("CCP_DBT_BUILD", "{}")) if execute else {}) -}}
{%- endmacro %}

{% macro build_parameter(name, default="-infinity") -%}
    {{- build_parameters().get(name, default) -}}
{%- endmacro %}

{#- dbt's own macro, which applies a data test's `where` config, with one addition: a build
    value named in brackets ("batch_date >= [crm_batches_changed_from]") becomes that date
    when the test runs (configs are rendered while parsing, which must not see the window). -#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get("where", "") -%}
    {%- if not where -%}
        {%- do return(relation) -%}
    {%- endif -%}
    {%- set filter = namespace(sql=where) -%}
    {%- for name, value in build_parameters().items() -%}
        {%- set filter.sql = filter.sql | replace("[" ~ name ~ "]", "date '" ~ value ~ "'") -%}
    {%- endfor -%}
    {#- Not given (a build by hand): every day. -#}
    {%- set filter.sql = modules.re.sub("\\[[a-z_]+\\]", "date '-infinity'", filter.sql) -%}
    {%- do return("(select * from " ~ relation ~ " where " ~ filter.sql ~ ") dbt_subquery") -%}
{%- endmacro %}

{#- The first batch date of `source` landed, re-landed or removed since the last build. -#}
{% macro batches_rebuilt_from(source) -%}
    date '{{ build_parameter(source ~ "_batches_changed_from") }}'
{%- endmacro %}

{#- The first business day whose figures a chain ('contacts', 'tickets', 'surveys', 'qa',
    'agent_days') can change. A changed contact is the repeat contact of the customer's
    contacts up to the FCR window before it (one more day: the window is in hours, days are
    local dates). A changed ticket (or a new event of it) counts on its creation day or
    later. The agent-days' window is the earliest of them all, or earlier when the roster
    changed (int_agent_days_rebuild_window). -#}
{% macro days_rebuilt_from(chain) -%}
    {%- if chain == "contacts" -%}
        (date '{{ build_parameter("contacts_changed_from") }}' - {{ var("fcr_repeat_window_days") | int + 1 }})
    {%- elif chain == "agent_days" -%}
        (select rebuilt_from from {{ ref('int_agent_days_rebuild_window') }})
    {%- else -%}
        date '{{ build_parameter(chain ~ "_changed_from") }}'
    {%- endif -%}
{%- endmacro %}

{#- The rows of a model rebuilt by day that its window covers (see rebuilt_by_day). -#}
{% macro rebuilt_rows(chain, column="business_date", moment=none) -%}
    {%- if moment -%}
        {{ on_or_after_local_day(moment, days_rebuilt_from(chain)) }}
    {%- else -%}
        {{ column }} >= {{ days_rebuilt_from(chain) }}
    {%- endif -%}
{%- endmacro %}

{#- Pre-hook of a model rebuilt by day: drop the days it is about to rebuild. -#}
{% macro delete_rebuilt_days(chain, column="business_date", moment=none) -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where {{ rebuilt_rows(chain, column, moment) }}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{#- Post-hook of an incremental staging model: a key whose every version left the raw
    table (a corrected re-delivery without it) leaves staging too. -#}
{% macro delete_keys_without_versions(source_relation, source) -%}
    {%- if is_incremental() -%}
        delete from {{ this }} as built
        where built.batch_date >= {{ batches_rebuilt_from(source) }}
            and not exists (
                select from {{ source_relation }} as landed
                -- The window's bound again on the raw side: its batch index, not a scan.
                where landed.batch_date >= {{ batches_rebuilt_from(source) }}
                    and landed.source_system = built.source_system
                    and landed.batch_date = built.batch_date
                    and landed.batch_id = built.batch_id
                    and landed.source_position = built.source_position)
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{#- Post-hook of an incremental model: fresh statistics (planned on the old ones, the rows
    just written look like none and a join on them becomes a nested loop, quadratic in the
    day), once the `rebuilt` rows (SQL condition) are a tenth of the table or more, and
    then only for the `columns` later reads select or join by: sampling a long history
    every day costs more than the day's rebuild. Below that tenth, autovacuum's own
    threshold, the statistics still describe the table (a day past their last value is
    estimated from the column's index). After a full build: everything. -#}
{% macro refresh_statistics(columns, rebuilt) -%}
    {%- if is_incremental() -%}
        do $$ begin
            if 10 * (select count(*) from {{ this }} where {{ rebuilt }}) >= (
                select reltuples from pg_class
                where oid = '{{ this.schema }}.{{ this.identifier }}'::regclass
            ) then
                analyze {{ this }} ({{ columns | join(", ") }});
            end if;
        end $$
    {%- else -%}
        analyze {{ this }}
    {%- endif -%}
{%- endmacro %}

{#- The keys an incremental staging model reads again: those found in the batches landed
    since the last build, or whose built row came from them. -#}
{% macro changed_keys(source_relation, source, key, quarantined=none) -%}
    select changed.{{ key }} from {{ source_relation }} as changed
    where changed.batch_date >= {{ batches_rebuilt_from(source) }}
    union
    select built.{{ key }} from {{ this }} as built
    where built.batch_date >= {{ batches_rebuilt_from(source) }}
    {%- if quarantined %}
        -- A version quarantined in a changed batch (`quarantined`: raw.quarantine) may
        -- withhold the key's built row.
        union
        select bad.record_key from {{ quarantined }} as bad
        where
            bad.source_system = '{{ source }}'
            and bad.batch_date >= {{ batches_rebuilt_from(source) }}
            and bad.raw_table = '{{ source_relation.identifier }}'
            and bad.record_key is not null
    {%- endif %}
{%- endmacro %}

{#- The rows of `source_relation` an incremental staging model re-reads: every version of
    each key found in the batches landed since the last build, or whose built row came
    from them (older versions included: the latest is chosen again). -#}
{% macro versions_of_changed_keys(source_relation, source, key, quarantined=none) -%}
    {%- if is_incremental() %}
        -- One index lookup per changed key (lateral): the cost follows the changes, not
        -- the size of the raw table.
        select versions.*
        from ({{ changed_keys(source_relation, source, key, quarantined) }}) as keys
        cross join lateral (
            select * from {{ source_relation }} as landed
            where landed.{{ key }} = keys.{{ key }}
        ) as versions
    {%- else %}
        select * from {{ source_relation }}
    {%- endif %}
{%- endmacro %}

{#- As versions_of_changed_keys, for a source whose newest batch holds a key's latest
    version (`order_by` starts with batch_date desc: a roster snapshot each day): the rows
    of the changed batches, and for each key in them (or built from them) only its newest
    version before them (one index probe), not every snapshot since the first. -#}
{% macro newest_versions_of_changed_keys(source_relation, source, key, order_by) -%}
    {%- if is_incremental() %}
        select changed.* from {{ source_relation }} as changed
        where changed.batch_date >= {{ batches_rebuilt_from(source) }}
        union all
        select before.*
        from ({{ changed_keys(source_relation, source, key) }}) as keys
        cross join lateral (
            select * from {{ source_relation }} as landed
            where
                landed.{{ key }} = keys.{{ key }}
                and landed.batch_date < {{ batches_rebuilt_from(source) }}
            order by {{ order_by }}
            limit 1
        ) as before
    {%- else %}
        select * from {{ source_relation }}
    {%- endif %}
{%- endmacro %}

{#- The config of a model rebuilt by day within a chain's window: the days of the window
    are deleted (pre-hook) and computed again (the model filters its input with
    days_rebuilt_from). A row's day is its `column` (a date), or the local day of its
    `moment` (a timestamptz), indexed if `indexed`; `indexes`: more columns later reads
    select by range. -#}
{% macro rebuilt_by_day(chain, column="business_date", moment=none, indexed=false, indexes=[]) -%}
    {%- set day = moment or column -%}
    {%- set arguments = [tojson(chain), tojson(column)] + ([tojson(moment)] if moment else []) -%}
    {%- set settings = {
        "materialized": "incremental",
        "incremental_strategy": "append",
        "on_schema_change": "fail",
        "pre_hook": "{{ delete_rebuilt_days(" ~ arguments | join(", ") ~ ") }}",
    } -%}
    {#- Fresh statistics: the next models read the days just written by range. -#}
    {%- set post_hooks = ["{{ refresh_statistics(" ~ tojson([day] + indexes) ~ ", rebuilt_rows("
        ~ arguments | join(", ") ~ ")) }}"] -%}
    {%- if indexed -%}
        {%- do post_hooks.append("create index if not exists {{ this.identifier }}_day on {{ this }} (" ~ day ~ ")") -%}
    {%- endif -%}
    {%- for other in indexes -%}
        {%- do post_hooks.append("create index if not exists {{ this.identifier }}_" ~ other
            ~ " on {{ this }} (" ~ other ~ ")") -%}
    {%- endfor -%}
    {%- do settings.update({"post_hook": post_hooks}) -%}
    {{ return(settings) }}
{%- endmacro %}
