{#- Layers live in schemas named for them (staging, intermediate, marts, seeds), not
    prefixed with the target schema: the publish step and BI grants refer to them by name. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}{{ target.schema }}{%- else -%}{{ custom_schema_name | trim }}{%- endif -%}
{%- endmacro %}
