-- The note the street office writes when it records a worker's return (按期返岗, 提前结束专班 …) is shown on
-- the secondment's page; until now it was kept only in the return's audit event, from which it is copied.
alter table secondment_request
    add column return_note text not null default '' check (length(return_note) <= 2000);
update secondment_request r
set return_note = coalesce((select e.detail->'change'->>'note' from audit_event e
                            where e.action = 'secondment.return' and e.subject_type = 'secondment_request'
                              and e.subject_id = r.id::text and e.outcome = 'ok'
                            order by e.id desc limit 1), '')
where r.status = 'returned';
