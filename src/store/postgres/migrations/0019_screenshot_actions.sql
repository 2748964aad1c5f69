-- consentry storage schema, version 19 (the SQLite migration of the same number):
-- screenshots around a partial consent choice (`accept_some`, issue 22) are stored like
-- those of the other consent actions; version 9's CHECK named three actions only.
ALTER TABLE visit_screenshots DROP CONSTRAINT visit_screenshots_action_check;
ALTER TABLE visit_screenshots ADD CONSTRAINT visit_screenshots_action_check
    CHECK (action IN ('accept_all', 'reject_all', 'object_li', 'accept_some'));
