SELECT count(*)::text || ':' || coalesce((date_part('epoch', max(c.updated_at)) * 1000)::text, '') AS fingerprint
    FROM koban.cron_entries c;

INSERT INTO koban.cron_entries AS c (name, expression, timezone, worker, args, options, paused, guaranteed)
    VALUES ($1, $2, $3, $4,
      $5::jsonb, $6::jsonb, $7, $8)
    ON CONFLICT (name) DO NOTHING
    RETURNING c.name, c.expression, c.timezone, c.worker, c.args, c.options, c.paused, c.guaranteed, date_part('epoch', c.last_tick) * 1000 AS "lastTick", date_part('epoch', c.changed_at) * 1000 AS "changedAt", date_part('epoch', c.inserted_at) * 1000 AS "insertedAt", date_part('epoch', c.updated_at) * 1000 AS "updatedAt";

SELECT count(*)::text || ':' || coalesce((date_part('epoch', max(c.updated_at)) * 1000)::text, '') AS fingerprint
    FROM koban.cron_entries c;

INSERT INTO koban.cron_entries AS c (name, expression, timezone, worker, args, options, paused, guaranteed)
    VALUES ($1, $2, $3, $4,
      $5::jsonb, $6::jsonb, $7, $8)
    ON CONFLICT (name) DO NOTHING
    RETURNING c.name, c.expression, c.timezone, c.worker, c.args, c.options, c.paused, c.guaranteed, date_part('epoch', c.last_tick) * 1000 AS "lastTick", date_part('epoch', c.changed_at) * 1000 AS "changedAt", date_part('epoch', c.inserted_at) * 1000 AS "insertedAt", date_part('epoch', c.updated_at) * 1000 AS "updatedAt";

UPDATE koban.cron_entries c SET last_tick = $1::timestamptz
      WHERE c.name = $2 AND NOT c.paused
        AND (c.last_tick IS NULL OR c.last_tick < $3::timestamptz)
      RETURNING c.name;

UPDATE koban.cron_entries c SET last_tick = $1::timestamptz
      WHERE c.name = $2 AND NOT c.paused
        AND (c.last_tick IS NULL OR c.last_tick < $3::timestamptz)
      RETURNING c.name;

SELECT count(*)::text || ':' || coalesce((date_part('epoch', max(c.updated_at)) * 1000)::text, '') AS fingerprint
    FROM koban.cron_entries c;

UPDATE koban.cron_entries c SET timezone = $1, paused = $2, changed_at = now(), updated_at = now()
    WHERE c.name = $3
    RETURNING c.name, c.expression, c.timezone, c.worker, c.args, c.options, c.paused, c.guaranteed, date_part('epoch', c.last_tick) * 1000 AS "lastTick", date_part('epoch', c.changed_at) * 1000 AS "changedAt", date_part('epoch', c.inserted_at) * 1000 AS "insertedAt", date_part('epoch', c.updated_at) * 1000 AS "updatedAt";

SELECT count(*)::text || ':' || coalesce((date_part('epoch', max(c.updated_at)) * 1000)::text, '') AS fingerprint
    FROM koban.cron_entries c;

UPDATE koban.cron_entries c SET last_tick = $1::timestamptz
      WHERE c.name = $2 AND NOT c.paused
        AND (c.last_tick IS NULL OR c.last_tick < $3::timestamptz)
      RETURNING c.name;

UPDATE koban.cron_entries c SET paused = $1, changed_at = CASE WHEN c.paused THEN now() ELSE c.changed_at END, updated_at = now()
    WHERE c.name = $2
    RETURNING c.name, c.expression, c.timezone, c.worker, c.args, c.options, c.paused, c.guaranteed, date_part('epoch', c.last_tick) * 1000 AS "lastTick", date_part('epoch', c.changed_at) * 1000 AS "changedAt", date_part('epoch', c.inserted_at) * 1000 AS "insertedAt", date_part('epoch', c.updated_at) * 1000 AS "updatedAt";

UPDATE koban.cron_entries c SET paused = $1, changed_at = CASE WHEN c.paused THEN now() ELSE c.changed_at END, updated_at = now()
    WHERE c.name = $2
    RETURNING c.name, c.expression, c.timezone, c.worker, c.args, c.options, c.paused, c.guaranteed, date_part('epoch', c.last_tick) * 1000 AS "lastTick", date_part('epoch', c.changed_at) * 1000 AS "changedAt", date_part('epoch', c.inserted_at) * 1000 AS "insertedAt", date_part('epoch', c.updated_at) * 1000 AS "updatedAt";

SELECT c.name, c.expression, c.timezone, c.worker, c.args, c.options, c.paused, c.guaranteed, date_part('epoch', c.last_tick) * 1000 AS "lastTick", date_part('epoch', c.changed_at) * 1000 AS "changedAt", date_part('epoch', c.inserted_at) * 1000 AS "insertedAt", date_part('epoch', c.updated_at) * 1000 AS "updatedAt" FROM koban.cron_entries c ORDER BY c.name;

SELECT count(*)::text || ':' || coalesce((date_part('epoch', max(c.updated_at)) * 1000)::text, '') AS fingerprint
    FROM koban.cron_entries c;

DELETE FROM koban.cron_entries c WHERE c.name = $1 RETURNING c.name;

SELECT count(*)::text || ':' || coalesce((date_part('epoch', max(c.updated_at)) * 1000)::text, '') AS fingerprint
    FROM koban.cron_entries c;

DELETE FROM koban.cron_entries c WHERE c.name = $1 RETURNING c.name;

SELECT c.name, c.expression, c.timezone, c.worker, c.args, c.options, c.paused, c.guaranteed, date_part('epoch', c.last_tick) * 1000 AS "lastTick", date_part('epoch', c.changed_at) * 1000 AS "changedAt", date_part('epoch', c.inserted_at) * 1000 AS "insertedAt", date_part('epoch', c.updated_at) * 1000 AS "updatedAt" FROM koban.cron_entries c ORDER BY c.name;
