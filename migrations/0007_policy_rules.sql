-- The policy engine (service/policy/): a county's own rule in the engine's form, stored whole.
-- match_type 'policy': `definition` holds the rule (word groups, severity, message, examples), as in
-- policies/prohibitions.toml; the national rules of that file are listed here too (source 'file').
alter table screening_rule add column definition jsonb;
alter table screening_rule drop constraint screening_rule_match_type_check;
alter table screening_rule add constraint screening_rule_match_type_check
    check (match_type in ('phrase', 'category', 'responsible_area', 'policy'));
alter table screening_rule add constraint screening_rule_policy_definition
    check ((match_type = 'policy') = (definition is not null));
