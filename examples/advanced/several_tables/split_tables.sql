-- Spread the demo's events over three tables, as warehouses often hold them:
--   activity   every event but signups and purchases (event-name column `event_name`)
--   signups    one row per signup (no event-name column)
--   purchases  one row per purchase, with its own column names (`buyer`, `ts`)
-- Run it on the demo database, e.g.
--   python -c "import duckdb; duckdb.connect('demo-data/demo.duckdb').execute(open('examples/advanced/several_tables/split_tables.sql').read())"
CREATE OR REPLACE TABLE activity AS
    SELECT * EXCLUDE (revenue) FROM events WHERE event_name NOT IN ('signup', 'purchase');
CREATE OR REPLACE TABLE signups AS
    SELECT user_id, event_time, platform, session_id FROM events WHERE event_name = 'signup';
CREATE OR REPLACE TABLE purchases AS
    SELECT user_id AS buyer, event_time AS ts, platform, revenue, session_id FROM events WHERE event_name = 'purchase';
