INSERT INTO koban.queues AS q (name, paused, "limit")
    VALUES ($1, $2, $3)
    ON CONFLICT (name) DO UPDATE SET
      paused = coalesce($4::boolean, q.paused),
      "limit" = coalesce($5::int, q."limit"),
      updated_at = now();

INSERT INTO koban.queues AS q (name, paused, "limit")
    VALUES ($1, $2, $3)
    ON CONFLICT (name) DO UPDATE SET
      paused = coalesce($4::boolean, q.paused),
      "limit" = coalesce($5::int, q."limit"),
      updated_at = now();

SELECT name, paused, "limit" FROM koban.queues;

SELECT pg_notify($1, payload) FROM unnest($2::text::text[]) AS payload;

SELECT pg_notify($1, payload) FROM unnest($2::text::text[]) AS payload;

INSERT INTO koban.jobs AS j (state, worker, queue, args, meta, tags, max_attempts, priority, scheduled_at)
    SELECT CASE WHEN t.scheduled_at::timestamptz > now() THEN 'scheduled' ELSE 'available' END, t.worker, t.queue, t.args::jsonb, t.meta::jsonb, t.tags::text[], t.max_attempts, t.priority, coalesce(t.scheduled_at::timestamptz, now()) FROM unnest($1::text::text[], $2::text::text[], $3::text::text[], $4::text::text[], $5::text::text[], $6::text::int[], $7::text::smallint[], $8::text::text[]) AS t(worker, queue, args, meta, tags, max_attempts, priority, scheduled_at)
    RETURNING j.id::text AS id, j.state, date_part('epoch', j.inserted_at) * 1000 AS "insertedAt", date_part('epoch', j.scheduled_at) * 1000 AS "scheduledAt";
