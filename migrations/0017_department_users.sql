-- A department's or street office's web user carries its organisation as an API client does: the name,
-- the organisation's own level (a county bureau 'county', a street office 'street') and where it sits.
-- All three or none (a reviewer or supervisor speaks for no department).
alter table web_user
    add column organisation       text check (organisation is null or length(organisation) between 1 and 100),
    add column organisation_level text check (organisation_level in
                                  ('national', 'province', 'city', 'county', 'street', 'community', 'other')),
    add column jurisdiction_code  text references jurisdiction (code),
    add constraint web_user_organisation_whole check (
        (organisation is null) = (organisation_level is null) and (organisation is null) = (jurisdiction_code is null));
