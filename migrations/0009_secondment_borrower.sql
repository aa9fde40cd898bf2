-- Secondments: who really borrows. The organ's type (declared, or read from its name), the level read from
-- its name against the jurisdiction tree, where the worker would go, and the start the request asked for
-- when the approval came after it (the secondment then starts on the approval date: history is never
-- written backwards).
alter table secondment_request
    add column organ_type text check (organ_type in ('organ', 'public_institution', 'state_owned_enterprise',
                                                     'mass_organisation', 'other')),
    add column inferred_level text,
    add column destination text check (destination is null or length(destination) between 1 and 200),
    add column requested_start_date date;
