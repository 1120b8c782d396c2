-- The raw contract: what each extractor lands, before any business rule.
-- Every raw table ends with the same lineage columns; a batch is replaced whole by
-- (source_system, batch_date), so a rerun or a re-delivered file never doubles rows.
-- Idempotent: safe to run before every extract.

create schema if not exists raw;

create table if not exists raw.batch_manifest (
    batch_id text not null,
    source_system text not null,
    source_object text not null,
    batch_date date not null,
    interval_start timestamptz not null,
    interval_end timestamptz not null,
    rows_read integer not null,
    rows_loaded integer not null,
    rows_quarantined integer not null,
    file_checksum text,
    extracted_at timestamptz not null,
    -- Added later, at the end where an existing warehouse's ALTER puts it.
    rows_skipped integer not null default 0,
    primary key (source_system, batch_date, source_object),
    constraint batch_manifest_rows_accounted
    check (rows_read = rows_loaded + rows_quarantined + rows_skipped)
);

-- Rows landed per raw table per batch: the row count each table's batch must show.
create table if not exists raw.batch_tables (
    batch_id text not null,
    source_system text not null,
    batch_date date not null,
    raw_table text not null,
    rows_loaded integer not null,
    primary key (source_system, batch_date, raw_table)
);

create table if not exists raw.quarantine (
    source_system text not null,
    source_object text not null,
    source_position text not null,
    batch_id text not null,
    batch_date date not null,
    reason text not null,
    raw_text text,
    extracted_at timestamptz not null,
    -- Of a versioned record (a ticket): its key and version time where they could be
    -- read, so a newer version that was quarantined withholds the older one.
    raw_table text,
    record_key text,
    record_version_at timestamptz,
    record_version_number integer
);
create index if not exists quarantine_batch on raw.quarantine (source_system, batch_date);

create table if not exists raw.call_center_contacts (
    contact_id text,
    channel text,
    queue_name text,
    agent_id text,
    customer_number text,
    offered_at timestamptz,
    answered_at timestamptz,
    ended_at timestamptz,
    queue_seconds integer,
    talk_seconds integer,
    hold_seconds integer,
    acw_seconds integer,
    is_abandoned boolean,
    is_transferred boolean,
    disposition text,
    quality_flags text,
    source_system text not null,
    source_object text not null,
    source_position text not null,
    batch_id text not null,
    batch_date date not null,
    extracted_at timestamptz not null,
    content_hash text not null
);

create table if not exists raw.crm_teams (
    team_id text,
    team_name text,
    business_line text,
    supervisor_name text,
    lead_name text,
    updated_at timestamptz,
    source_system text not null,
    source_object text not null,
    source_position text not null,
    batch_id text not null,
    batch_date date not null,
    extracted_at timestamptz not null,
    content_hash text not null
);

create table if not exists raw.crm_agents (
    agent_id text,
    agent_name text,
    team_id text,
    primary_channel text,
    hired_on date,
    left_on date,
    updated_at timestamptz,
    source_system text not null,
    source_object text not null,
    source_position text not null,
    batch_id text not null,
    batch_date date not null,
    extracted_at timestamptz not null,
    content_hash text not null
);

create table if not exists raw.crm_tickets (
    ticket_id text,
    channel text,
    category text,
    priority text,
    status text,
    assignee_agent_id text,
    customer_name text,
    source_contact_id text,
    created_at timestamptz,
    first_response_at timestamptz,
    resolved_at timestamptz,
    sla_due_at timestamptz,
    reopen_count integer,
    is_complaint boolean,
    complaint_cause text,
    complained_agent_id text,
    updated_at timestamptz,
    source_system text not null,
    source_object text not null,
    source_position text not null,
    batch_id text not null,
    batch_date date not null,
    extracted_at timestamptz not null,
    content_hash text not null,
    -- Added later, at the end where an existing warehouse's ALTER puts them.
    is_sla_met boolean,
    version_number integer
);

create table if not exists raw.qa_inspections (
    inspection_id text,
    record_type text,
    record_id text,
    agent_id text,
    record_at timestamptz,
    inspector_name text,
    inspected_at timestamptz,
    updated_at timestamptz,
    source_system text not null,
    source_object text not null,
    source_position text not null,
    batch_id text not null,
    batch_date date not null,
    extracted_at timestamptz not null,
    content_hash text not null
);

create table if not exists raw.qa_deductions (
    deduction_id text,
    inspection_id text,
    dimension text,
    severity text,
    points integer,
    note text,
    source_system text not null,
    source_object text not null,
    source_position text not null,
    batch_id text not null,
    batch_date date not null,
    extracted_at timestamptz not null,
    content_hash text not null
);

create table if not exists raw.qa_rectifications (
    rectification_id text,
    inspection_id text,
    agent_id text,
    description text,
    due_date date,
    closed_at timestamptz,
    updated_at timestamptz,
    source_system text not null,
    source_object text not null,
    source_position text not null,
    batch_id text not null,
    batch_date date not null,
    extracted_at timestamptz not null,
    content_hash text not null
);

create table if not exists raw.survey_responses (
    response_id text,
    contact_id text,
    channel text,
    agent_id text,
    contact_at timestamptz,
    responded_at timestamptz,
    csat_score integer,
    nps_score integer,
    comment_text text,
    tags text,
    source_system text not null,
    source_object text not null,
    source_position text not null,
    batch_id text not null,
    batch_date date not null,
    extracted_at timestamptz not null,
    content_hash text not null
);

create table if not exists raw.crm_team_assignments (
    assignment_id text,
    agent_id text,
    team_id text,
    valid_from date,
    valid_to date,
    updated_at timestamptz,
    source_system text not null,
    source_object text not null,
    source_position text not null,
    batch_id text not null,
    batch_date date not null,
    extracted_at timestamptz not null,
    content_hash text not null
);

create table if not exists raw.crm_ticket_events (
    event_id text,
    ticket_id text,
    event_type text,
    responsible_agent_id text,
    occurred_at timestamptz,
    source_system text not null,
    source_object text not null,
    source_position text not null,
    batch_id text not null,
    batch_date date not null,
    extracted_at timestamptz not null,
    content_hash text not null
);

create table if not exists raw.supervisor_inputs (
    month date,
    team_id text,
    agent_id text,
    teamwork_rating numeric,
    training_sessions_scheduled integer,
    training_sessions_attended integer,
    exam_score numeric,
    discipline_points integer,
    plan_items_due integer,
    plan_items_closed_on_time integer,
    comment_text text,
    source_system text not null,
    source_object text not null,
    source_position text not null,
    batch_id text not null,
    batch_date date not null,
    extracted_at timestamptz not null,
    content_hash text not null
);

-- Columns added after the first release: existing warehouses gain them here.
alter table raw.quarantine add column if not exists rule text;
alter table raw.call_center_contacts add column if not exists queue_seconds integer;
alter table raw.call_center_contacts add column if not exists quality_flags text;
alter table raw.quarantine add column if not exists record_key text;
alter table raw.quarantine add column if not exists record_version_at timestamptz;
alter table raw.quarantine add column if not exists record_version_number integer;
alter table raw.quarantine add column if not exists raw_table text;
create index if not exists quarantine_record_key on raw.quarantine (raw_table, record_key)
where record_key is not null;
alter table raw.crm_tickets add column if not exists is_sla_met boolean;
alter table raw.crm_tickets add column if not exists version_number integer;
alter table raw.batch_manifest add column if not exists rows_skipped integer not null default 0;
-- Rows read = landed + quarantined + skipped (lines that are no records of the source).
alter table raw.batch_manifest drop constraint if exists batch_manifest_check;
alter table raw.batch_manifest drop constraint if exists batch_manifest_rows_accounted;
alter table raw.batch_manifest add constraint batch_manifest_rows_accounted
check (rows_read = rows_loaded + rows_quarantined + rows_skipped);

do $$
declare
    t text;
begin
    foreach t in array array[
        'call_center_contacts', 'crm_teams', 'crm_agents', 'crm_tickets', 'qa_inspections',
        'qa_deductions', 'qa_rectifications', 'survey_responses', 'crm_team_assignments',
        'crm_ticket_events', 'supervisor_inputs'
    ] loop
        execute format(
            'create index if not exists %I on raw.%I (source_system, batch_date)',
            t || '_batch', t
        );
    end loop;
end $$;

-- The incremental staging of contacts, tickets, survey responses, QA inspections,
-- deductions and rectification items reads every version of a changed one by its id.
create index if not exists call_center_contacts_contact_id
on raw.call_center_contacts (contact_id);
create index if not exists crm_tickets_ticket_id on raw.crm_tickets (ticket_id);
create index if not exists survey_responses_response_id on raw.survey_responses (response_id);
create index if not exists qa_inspections_inspection_id on raw.qa_inspections (inspection_id);
create index if not exists qa_deductions_deduction_id on raw.qa_deductions (deduction_id);
-- The roster's staging reads a key's newest version before the changed batches.
create index if not exists crm_agents_agent_id on raw.crm_agents (agent_id, batch_date);
create index if not exists crm_teams_team_id on raw.crm_teams (team_id, batch_date);
create index if not exists crm_team_assignments_assignment_id
on raw.crm_team_assignments (assignment_id, batch_date);
create index if not exists qa_rectifications_rectification_id
on raw.qa_rectifications (rectification_id);

-- Helpers of the set-based landing (extractors/mapping_sql.py).

-- A line's CSV fields, each stripped of surrounding whitespace, when it holds quotes or
-- blanks to strip (other lines are split by string_to_array): for ("a ""b""" , c ) it
-- gives {a "b", c}, as Python's csv module and str.strip() read the line.
create or replace function raw.csv_fields(line text, delimiter text, delimiter_class text)
returns text[] language sql immutable strict parallel safe as $$
    select array_agg(
        btrim(
            case
                when m[1] ~ '^".*"\s*$'
                    then replace(substring(m[1] from '^"(.*)"\s*$'), '""', '"')
                else m[1]
            end,
            E' \t\n\r\f\v'
        )
        order by n
    )
    from regexp_matches(
        line || delimiter,
        '("(?:[^"]|"")*"|[^' || delimiter_class || ']*)[' || delimiter_class || ']',
        'g'
    ) with ordinality as r (m, n)
$$;

-- Python's repr() of a text, as quarantine reasons quote the value they refuse.
create or replace function raw.py_repr(value text)
returns text language sql immutable strict parallel safe as $$
    select
        case
            when strpos(value, '''') > 0 and strpos(value, '"') = 0 then '"' || e || '"'
            else '''' || replace(e, '''', '\''') || ''''
        end
    from (
        select replace(replace(replace(replace(
            value, '\', '\\'), E'\t', '\t'), E'\n', '\n'), E'\r', '\r') as e
    ) as escaped
$$;

-- The rule a quarantine reason names: the text before its first colon, as an identifier.
create or replace function raw.quarantine_rule(reason text)
returns text language sql immutable strict parallel safe as $$
    select coalesce(
        nullif(left(btrim(regexp_replace(
            lower(btrim(split_part(reason, ':', 1))), '[^a-z0-9]+', '_', 'g'), '_'), 80), ''),
        'unparseable'
    )
$$;
