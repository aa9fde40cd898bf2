"""The SQL of the outbox and its delivery worker."""

# outbox.py: in the caller's transaction; no row when the client registered no callback
ENQUEUE = """
insert into outbox (client_id, topic, subject_type, subject_id, payload)
select id, $2, $3, $4, $5 from api_client where id = $1 and callback_url is not null
returning id
"""

# delivery.py
CLAIM = """
with due as (
    select o.id from outbox o
    where o.delivered_at is null and o.given_up_at is null and o.next_attempt_at <= now()
    order by o.next_attempt_at, o.id
    limit $1
    for update skip locked
)
update outbox o set next_attempt_at = now() + make_interval(secs => $2)
from due, api_client c
where o.id = due.id and c.id = o.client_id
returning o.id, o.client_id, o.topic, o.subject_type, o.subject_id, o.payload, o.created_at, o.attempts,
          c.callback_url, c.callback_secret
"""

ATTEMPT = """
insert into delivery_attempt (outbox_id, url, status_code, error, duration_ms) values ($1, $2, $3, $4, $5)
"""

DELIVERED = "update outbox set delivered_at = now(), attempts = attempts + 1, last_error = null where id = $1"

RETRY = """
update outbox set attempts = attempts + 1, last_error = $2,
       next_attempt_at = case when $4 then next_attempt_at else now() + make_interval(secs => $3) end,
       given_up_at = case when $4 then now() else null end
where id = $1
"""

NEXT_DUE = """
select min(next_attempt_at) from outbox where delivered_at is null and given_up_at is null
"""
