SELECT to_regclass($1) IS NOT NULL AS found;

SELECT max(version) AS version FROM koban.schema_versions;

SELECT date_part('epoch', now()) * 1000 AS now;

SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = $1 AND c.relname = ANY($2::text::text[]);

SELECT to_regclass($1) IS NOT NULL AS found;

SELECT max(version) AS version FROM koban.schema_versions;
