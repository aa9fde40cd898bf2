-- Signing out ends a session on the server: each session carries its user's generation, and signing
-- out moves it on, so a copied cookie stops working everywhere at once.
alter table web_user add column session_generation integer not null default 0;

-- Failed sign-ins are counted per account name and client address (a keyed hash of the address, never
-- the address itself): someone failing from elsewhere is slowed down and then blocked at their own
-- address, and never locks the person out. Unknown names are counted the same way, so the answers
-- never tell whether an account exists.
create table login_failure (
    username       text not null,
    client_key     bytea not null,
    failures       integer not null,
    last_failed_at timestamptz not null,
    blocked_until  timestamptz,
    primary key (username, client_key)
);
