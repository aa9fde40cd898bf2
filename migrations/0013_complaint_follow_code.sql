-- A complaint filed without an account is followed with its receipt number and a code shown once to the
-- filer. Only a keyed hash of the code is kept (HMAC-SHA256 with the token pepper, as for API tokens), so
-- nobody reading the table can follow someone else's complaint. Complaints filed before have none.
alter table complaint add column follow_code_hash bytea;
