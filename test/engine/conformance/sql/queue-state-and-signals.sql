INSERT INTO koban.queues AS q (name, paused, "limit", flow, run)
    VALUES ($1, $2, $3, $4::jsonb, $5)
    ON CONFLICT (name) DO UPDATE SET
      paused = coalesce($6::boolean, q.paused),
      "limit" = coalesce($7::int, q."limit"),
      flow = CASE WHEN $8::jsonb IS NULL THEN q.flow ELSE coalesce(q.flow, '{}') || $9::jsonb END,
      run = coalesce($10::text, q.run),
      updated_at = now()
    RETURNING name, paused, "limit", flow, run;

INSERT INTO koban.queues AS q (name, paused, "limit", flow, run)
    VALUES ($1, $2, $3, $4::jsonb, $5)
    ON CONFLICT (name) DO UPDATE SET
      paused = coalesce($6::boolean, q.paused),
      "limit" = coalesce($7::int, q."limit"),
      flow = CASE WHEN $8::jsonb IS NULL THEN q.flow ELSE coalesce(q.flow, '{}') || $9::jsonb END,
      run = coalesce($10::text, q.run),
      updated_at = now()
    RETURNING name, paused, "limit", flow, run;

INSERT INTO koban.queues AS q (name, paused, "limit", flow, run)
    VALUES ($1, $2, $3, $4::jsonb, $5)
    ON CONFLICT (name) DO UPDATE SET
      paused = coalesce($6::boolean, q.paused),
      "limit" = coalesce($7::int, q."limit"),
      flow = CASE WHEN $8::jsonb IS NULL THEN q.flow ELSE coalesce(q.flow, '{}') || $9::jsonb END,
      run = coalesce($10::text, q.run),
      updated_at = now()
    RETURNING name, paused, "limit", flow, run;

INSERT INTO koban.queues AS q (name, paused, "limit", flow, run)
    VALUES ($1, $2, $3, $4::jsonb, $5)
    ON CONFLICT (name) DO UPDATE SET
      paused = coalesce($6::boolean, q.paused),
      "limit" = coalesce($7::int, q."limit"),
      flow = CASE WHEN $8::jsonb IS NULL THEN q.flow ELSE coalesce(q.flow, '{}') || $9::jsonb END,
      run = coalesce($10::text, q.run),
      updated_at = now()
    RETURNING name, paused, "limit", flow, run;

SELECT name, paused, "limit", flow, run FROM koban.queues;

SELECT pg_notify($1, payload) FROM unnest($2::text::text[]) AS payload;

SELECT pg_notify($1, payload) FROM unnest($2::text::text[]) AS payload;

INSERT INTO koban.jobs AS j (state, worker, queue, args, meta, tags, max_attempts, priority, scheduled_at)
    SELECT CASE WHEN t.scheduled_at::timestamptz > now() THEN 'scheduled' ELSE 'available' END, t.worker, t.queue, t.args::jsonb, t.meta::jsonb, t.tags::text[], t.max_attempts, t.priority, coalesce(t.scheduled_at::timestamptz, now()) FROM unnest($1::text::text[], $2::text::text[], $3::text::text[], $4::text::text[], $5::text::text[], $6::text::int[], $7::text::smallint[], $8::text::text[]) AS t(worker, queue, args, meta, tags, max_attempts, priority, scheduled_at)
    RETURNING j.id::text AS id, j.state, date_part('epoch', j.inserted_at) * 1000 AS "insertedAt", date_part('epoch', j.scheduled_at) * 1000 AS "scheduledAt";
