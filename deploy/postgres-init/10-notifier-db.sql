-- The notifier's delivery ledger lives in its own database, beside the social one that
-- POSTGRES_DB creates: the services share only their contracts, not their tables.
-- The postgres image runs this once, when it initialises an empty data volume.
CREATE DATABASE notifier_ledger OWNER microblog;
