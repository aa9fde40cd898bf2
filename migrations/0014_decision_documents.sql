-- Decisions as documents (准予准入决定书, 不予准入告知书, 退回补正通知, 借调审批意见): each decision of a
-- county's reviewing body or organisation department is issued with a number from the county's own
-- sequence for that series and year (长社工准〔2026〕N号). The counter moves in the decision's own
-- transaction (a row lock serialises a county's decisions of one series): a decision that rolls back
-- takes its number back with it, so numbers have no gaps, and a number once committed is never given
-- again (the unique key below, and no UPDATE or DELETE on decision_document for the service).
create table decision_number_counter (
    county_code text not null references jurisdiction (code),
    series      text not null check (series in ('admission', 'secondment')),
    year        int not null check (year between 2000 and 2200),
    last_number int not null check (last_number >= 1),
    primary key (county_code, series, year)
);

create table decision_document (
    id             bigint generated always as identity primary key,
    county_code    text not null references jurisdiction (code),
    series         text not null check (series in ('admission', 'secondment')),
    year           int not null,
    number         int not null check (number >= 1),
    document_number text not null,
    kind           text not null check (kind in ('admission_approval', 'admission_rejection', 'admission_return',
                                                 'secondment_decision')),
    subject_type   text not null check (subject_type in ('admission_request', 'secondment_request')),
    subject_id     bigint not null,
    -- the public address's token (printed as URL and QR code): unguessable, never reused
    verify_token   text not null unique check (verify_token ~ '^[a-z2-7]{26}$'),
    -- what the document says, frozen at issue; its SHA-256 is in the decision's audit event
    content        jsonb not null,
    content_digest char(64) not null,
    audit_event_id bigint not null references audit_event (id),
    issued_on      date not null,
    issued_at      timestamptz not null default now(),
    unique (county_code, series, year, number),
    unique (county_code, document_number),
    unique (subject_type, subject_id),
    foreign key (county_code, series, year) references decision_number_counter (county_code, series, year)
);

-- No gap, at commit: every number the counter reached has its document (the counter's row and the
-- document are written in one transaction), and a document takes the counter's number, not another.
create function decision_number_issued() returns trigger language plpgsql as $$
begin
    if not exists (select 1 from decision_document d where d.county_code = new.county_code
                   and d.series = new.series and d.year = new.year and d.number = new.last_number) then
        raise exception 'decision number % of % % % has no document', new.last_number, new.county_code,
            new.series, new.year;
    end if;
    return null;
end $$;
create constraint trigger decision_number_issued after insert or update on decision_number_counter
    deferrable initially deferred for each row execute function decision_number_issued();

create function decision_document_takes_counter() returns trigger language plpgsql as $$
begin
    if new.number is distinct from (select c.last_number from decision_number_counter c
                                    where c.county_code = new.county_code and c.series = new.series
                                    and c.year = new.year) then
        raise exception 'decision document % does not take the counter''s number', new.document_number;
    end if;
    return new;
end $$;
create trigger decision_document_takes_counter before insert on decision_document
    for each row execute function decision_document_takes_counter();
