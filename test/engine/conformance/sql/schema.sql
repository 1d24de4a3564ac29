SELECT pg_advisory_xact_lock(hashtext($1));

SET LOCAL client_min_messages = warning;

SET LOCAL lock_timeout = '2s';

CREATE SCHEMA IF NOT EXISTS koban;

CREATE TABLE IF NOT EXISTS koban.schema_versions (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now());

SELECT max(version) AS version FROM koban.schema_versions;

SELECT date_part('epoch', now()) * 1000 AS now;

SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = $1 AND c.relname = ANY($2::text::text[]);

SELECT to_regclass($1) IS NOT NULL AS found;

SELECT max(version) AS version FROM koban.schema_versions;
