"""SQL of the decision documents."""

# the county's next number for a series and year, in the decision's transaction (the row stays locked
# until it commits; a rollback takes the number back)
NEXT_NUMBER = """
insert into decision_number_counter (county_code, series, year, last_number) values ($1, $2, $3, 1)
on conflict (county_code, series, year) do update set last_number = decision_number_counter.last_number + 1
returning last_number
"""

# the decision's own audit event, written a moment before in the same transaction
DECISION_EVENT = """
select id from audit_event
where action = $1 and subject_type = $2 and subject_id = $3 and outcome = 'ok'
order by id desc limit 1
"""

INSERT = """
insert into decision_document (county_code, series, year, number, document_number, kind, subject_type, subject_id,
                               verify_token, content, content_digest, audit_event_id, issued_on)
values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
returning *
"""

BY_SUBJECT = "select * from decision_document where subject_type = $1 and subject_id = $2"

BY_TOKEN = "select * from decision_document where verify_token = $1"

EVENT_CHANGE = "select action, subject_type, subject_id, detail -> 'change' as change from audit_event where id = $1"
