SELECT pg_advisory_xact_lock(hashtext($1));

SET LOCAL client_min_messages = warning;

CREATE SCHEMA IF NOT EXISTS koban;

CREATE TABLE IF NOT EXISTS koban.schema_versions (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now());

SELECT max(version) AS version FROM koban.schema_versions;

SELECT date_part('epoch', now()) * 1000 AS now;

CREATE TABLE IF NOT EXISTS koban.job_history_20261202 PARTITION OF koban.job_history FOR VALUES FROM ('2026-12-02T00:00:00.000Z') TO ('2026-12-03T00:00:00.000Z');

CREATE TABLE IF NOT EXISTS koban.job_history_20261203 PARTITION OF koban.job_history FOR VALUES FROM ('2026-12-03T00:00:00.000Z') TO ('2026-12-04T00:00:00.000Z');

CREATE TABLE IF NOT EXISTS koban.job_history_20261204 PARTITION OF koban.job_history FOR VALUES FROM ('2026-12-04T00:00:00.000Z') TO ('2026-12-05T00:00:00.000Z');

CREATE TABLE IF NOT EXISTS koban.job_history_20261205 PARTITION OF koban.job_history FOR VALUES FROM ('2026-12-05T00:00:00.000Z') TO ('2026-12-06T00:00:00.000Z');

SELECT to_regclass($1) IS NOT NULL AS found;

SELECT max(version) AS version FROM koban.schema_versions;
