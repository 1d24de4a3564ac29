INSERT INTO koban.job_metrics AS m
      (minute, queue, worker, node, completed, retried, discarded, cancelled, snoozed, run_ms, queue_ms,
       run_histogram, queue_histogram)
    SELECT to_timestamp(t.minute / 1000.0), t.queue, t.worker, t.node, t.completed, t.retried, t.discarded,
      t.cancelled, t.snoozed, t.run_ms, t.queue_ms, t.run_histogram::int[], t.queue_histogram::int[]
    FROM unnest($1::text::float8[], $2::text::text[], $3::text::text[],
      $4::text::text[], $5::text::int[], $6::text::int[],
      $7::text::int[], $8::text::int[], $9::text::int[],
      $10::text::float8[], $11::text::float8[],
      $12::text::text[], $13::text::text[])
      AS t(minute, queue, worker, node, completed, retried, discarded, cancelled, snoozed, run_ms, queue_ms,
        run_histogram, queue_histogram)
    ON CONFLICT (minute, queue, worker, node) DO UPDATE SET
      completed = m.completed + excluded.completed, retried = m.retried + excluded.retried, discarded = m.discarded + excluded.discarded, cancelled = m.cancelled + excluded.cancelled, snoozed = m.snoozed + excluded.snoozed, run_ms = m.run_ms + excluded.run_ms, queue_ms = m.queue_ms + excluded.queue_ms,
      run_histogram = ARRAY(SELECT coalesce(a, 0) + coalesce(b, 0) FROM unnest(m.run_histogram, excluded.run_histogram) AS h(a, b)), queue_histogram = ARRAY(SELECT coalesce(a, 0) + coalesce(b, 0) FROM unnest(m.queue_histogram, excluded.queue_histogram) AS h(a, b));

INSERT INTO koban.job_metrics AS m
      (minute, queue, worker, node, completed, retried, discarded, cancelled, snoozed, run_ms, queue_ms,
       run_histogram, queue_histogram)
    SELECT to_timestamp(t.minute / 1000.0), t.queue, t.worker, t.node, t.completed, t.retried, t.discarded,
      t.cancelled, t.snoozed, t.run_ms, t.queue_ms, t.run_histogram::int[], t.queue_histogram::int[]
    FROM unnest($1::text::float8[], $2::text::text[], $3::text::text[],
      $4::text::text[], $5::text::int[], $6::text::int[],
      $7::text::int[], $8::text::int[], $9::text::int[],
      $10::text::float8[], $11::text::float8[],
      $12::text::text[], $13::text::text[])
      AS t(minute, queue, worker, node, completed, retried, discarded, cancelled, snoozed, run_ms, queue_ms,
        run_histogram, queue_histogram)
    ON CONFLICT (minute, queue, worker, node) DO UPDATE SET
      completed = m.completed + excluded.completed, retried = m.retried + excluded.retried, discarded = m.discarded + excluded.discarded, cancelled = m.cancelled + excluded.cancelled, snoozed = m.snoozed + excluded.snoozed, run_ms = m.run_ms + excluded.run_ms, queue_ms = m.queue_ms + excluded.queue_ms,
      run_histogram = ARRAY(SELECT coalesce(a, 0) + coalesce(b, 0) FROM unnest(m.run_histogram, excluded.run_histogram) AS h(a, b)), queue_histogram = ARRAY(SELECT coalesce(a, 0) + coalesce(b, 0) FROM unnest(m.queue_histogram, excluded.queue_histogram) AS h(a, b));

INSERT INTO koban.job_metrics AS m
      (minute, queue, worker, node, completed, retried, discarded, cancelled, snoozed, run_ms, queue_ms,
       run_histogram, queue_histogram)
    SELECT to_timestamp(t.minute / 1000.0), t.queue, t.worker, t.node, t.completed, t.retried, t.discarded,
      t.cancelled, t.snoozed, t.run_ms, t.queue_ms, t.run_histogram::int[], t.queue_histogram::int[]
    FROM unnest($1::text::float8[], $2::text::text[], $3::text::text[],
      $4::text::text[], $5::text::int[], $6::text::int[],
      $7::text::int[], $8::text::int[], $9::text::int[],
      $10::text::float8[], $11::text::float8[],
      $12::text::text[], $13::text::text[])
      AS t(minute, queue, worker, node, completed, retried, discarded, cancelled, snoozed, run_ms, queue_ms,
        run_histogram, queue_histogram)
    ON CONFLICT (minute, queue, worker, node) DO UPDATE SET
      completed = m.completed + excluded.completed, retried = m.retried + excluded.retried, discarded = m.discarded + excluded.discarded, cancelled = m.cancelled + excluded.cancelled, snoozed = m.snoozed + excluded.snoozed, run_ms = m.run_ms + excluded.run_ms, queue_ms = m.queue_ms + excluded.queue_ms,
      run_histogram = ARRAY(SELECT coalesce(a, 0) + coalesce(b, 0) FROM unnest(m.run_histogram, excluded.run_histogram) AS h(a, b)), queue_histogram = ARRAY(SELECT coalesce(a, 0) + coalesce(b, 0) FROM unnest(m.queue_histogram, excluded.queue_histogram) AS h(a, b));

SELECT date_part('epoch', b.at) * 1000 AS at, b.queue, b.worker, b.completed, b.retried, b.discarded,
      b.cancelled, b.snoozed, b.run_ms AS "runMs", b.queue_ms AS "queueMs", b.run_histogram AS "runHistogram",
      b.queue_histogram AS "queueHistogram"
    FROM (
      SELECT date_bin($1::interval, minute, to_timestamp(0)) AS at, queue AS queue, worker AS worker,
        sum(completed)::int AS completed, sum(retried)::int AS retried, sum(discarded)::int AS discarded, sum(cancelled)::int AS cancelled, sum(snoozed)::int AS snoozed,
        sum(run_ms)::float8 AS run_ms, sum(queue_ms)::float8 AS queue_ms,
        json_build_array(coalesce(sum(run_histogram[1]), 0)::int, coalesce(sum(run_histogram[2]), 0)::int, coalesce(sum(run_histogram[3]), 0)::int, coalesce(sum(run_histogram[4]), 0)::int, coalesce(sum(run_histogram[5]), 0)::int, coalesce(sum(run_histogram[6]), 0)::int, coalesce(sum(run_histogram[7]), 0)::int, coalesce(sum(run_histogram[8]), 0)::int, coalesce(sum(run_histogram[9]), 0)::int, coalesce(sum(run_histogram[10]), 0)::int, coalesce(sum(run_histogram[11]), 0)::int, coalesce(sum(run_histogram[12]), 0)::int, coalesce(sum(run_histogram[13]), 0)::int, coalesce(sum(run_histogram[14]), 0)::int, coalesce(sum(run_histogram[15]), 0)::int, coalesce(sum(run_histogram[16]), 0)::int, coalesce(sum(run_histogram[17]), 0)::int, coalesce(sum(run_histogram[18]), 0)::int) AS run_histogram,
        json_build_array(coalesce(sum(queue_histogram[1]), 0)::int, coalesce(sum(queue_histogram[2]), 0)::int, coalesce(sum(queue_histogram[3]), 0)::int, coalesce(sum(queue_histogram[4]), 0)::int, coalesce(sum(queue_histogram[5]), 0)::int, coalesce(sum(queue_histogram[6]), 0)::int, coalesce(sum(queue_histogram[7]), 0)::int, coalesce(sum(queue_histogram[8]), 0)::int, coalesce(sum(queue_histogram[9]), 0)::int, coalesce(sum(queue_histogram[10]), 0)::int, coalesce(sum(queue_histogram[11]), 0)::int, coalesce(sum(queue_histogram[12]), 0)::int, coalesce(sum(queue_histogram[13]), 0)::int, coalesce(sum(queue_histogram[14]), 0)::int, coalesce(sum(queue_histogram[15]), 0)::int, coalesce(sum(queue_histogram[16]), 0)::int, coalesce(sum(queue_histogram[17]), 0)::int, coalesce(sum(queue_histogram[18]), 0)::int) AS queue_histogram
      FROM koban.job_metrics
      WHERE minute >= to_timestamp($2 / 1000.0) AND minute < to_timestamp($3 / 1000.0)
        
        
      GROUP BY 1, 2, 3
    ) b
    ORDER BY b.at, b.queue, b.worker;

SELECT date_part('epoch', b.at) * 1000 AS at, b.queue, b.worker, b.completed, b.retried, b.discarded,
      b.cancelled, b.snoozed, b.run_ms AS "runMs", b.queue_ms AS "queueMs", b.run_histogram AS "runHistogram",
      b.queue_histogram AS "queueHistogram"
    FROM (
      SELECT date_bin($1::interval, minute, to_timestamp(0)) AS at, NULL::text AS queue, NULL::text AS worker,
        sum(completed)::int AS completed, sum(retried)::int AS retried, sum(discarded)::int AS discarded, sum(cancelled)::int AS cancelled, sum(snoozed)::int AS snoozed,
        sum(run_ms)::float8 AS run_ms, sum(queue_ms)::float8 AS queue_ms,
        json_build_array(coalesce(sum(run_histogram[1]), 0)::int, coalesce(sum(run_histogram[2]), 0)::int, coalesce(sum(run_histogram[3]), 0)::int, coalesce(sum(run_histogram[4]), 0)::int, coalesce(sum(run_histogram[5]), 0)::int, coalesce(sum(run_histogram[6]), 0)::int, coalesce(sum(run_histogram[7]), 0)::int, coalesce(sum(run_histogram[8]), 0)::int, coalesce(sum(run_histogram[9]), 0)::int, coalesce(sum(run_histogram[10]), 0)::int, coalesce(sum(run_histogram[11]), 0)::int, coalesce(sum(run_histogram[12]), 0)::int, coalesce(sum(run_histogram[13]), 0)::int, coalesce(sum(run_histogram[14]), 0)::int, coalesce(sum(run_histogram[15]), 0)::int, coalesce(sum(run_histogram[16]), 0)::int, coalesce(sum(run_histogram[17]), 0)::int, coalesce(sum(run_histogram[18]), 0)::int) AS run_histogram,
        json_build_array(coalesce(sum(queue_histogram[1]), 0)::int, coalesce(sum(queue_histogram[2]), 0)::int, coalesce(sum(queue_histogram[3]), 0)::int, coalesce(sum(queue_histogram[4]), 0)::int, coalesce(sum(queue_histogram[5]), 0)::int, coalesce(sum(queue_histogram[6]), 0)::int, coalesce(sum(queue_histogram[7]), 0)::int, coalesce(sum(queue_histogram[8]), 0)::int, coalesce(sum(queue_histogram[9]), 0)::int, coalesce(sum(queue_histogram[10]), 0)::int, coalesce(sum(queue_histogram[11]), 0)::int, coalesce(sum(queue_histogram[12]), 0)::int, coalesce(sum(queue_histogram[13]), 0)::int, coalesce(sum(queue_histogram[14]), 0)::int, coalesce(sum(queue_histogram[15]), 0)::int, coalesce(sum(queue_histogram[16]), 0)::int, coalesce(sum(queue_histogram[17]), 0)::int, coalesce(sum(queue_histogram[18]), 0)::int) AS queue_histogram
      FROM koban.job_metrics
      WHERE minute >= to_timestamp($2 / 1000.0) AND minute < to_timestamp($3 / 1000.0)
        
        
      GROUP BY 1, 2, 3
    ) b
    ORDER BY b.at, b.queue, b.worker;

WITH pruned AS (
      DELETE FROM koban.job_metrics WHERE minute < now() - $1 * interval '1 second'
      RETURNING 1
    )
    SELECT count(*)::int AS pruned FROM pruned;

SELECT date_part('epoch', b.at) * 1000 AS at, b.queue, b.worker, b.completed, b.retried, b.discarded,
      b.cancelled, b.snoozed, b.run_ms AS "runMs", b.queue_ms AS "queueMs", b.run_histogram AS "runHistogram",
      b.queue_histogram AS "queueHistogram"
    FROM (
      SELECT date_bin($1::interval, minute, to_timestamp(0)) AS at, queue AS queue, worker AS worker,
        sum(completed)::int AS completed, sum(retried)::int AS retried, sum(discarded)::int AS discarded, sum(cancelled)::int AS cancelled, sum(snoozed)::int AS snoozed,
        sum(run_ms)::float8 AS run_ms, sum(queue_ms)::float8 AS queue_ms,
        json_build_array(coalesce(sum(run_histogram[1]), 0)::int, coalesce(sum(run_histogram[2]), 0)::int, coalesce(sum(run_histogram[3]), 0)::int, coalesce(sum(run_histogram[4]), 0)::int, coalesce(sum(run_histogram[5]), 0)::int, coalesce(sum(run_histogram[6]), 0)::int, coalesce(sum(run_histogram[7]), 0)::int, coalesce(sum(run_histogram[8]), 0)::int, coalesce(sum(run_histogram[9]), 0)::int, coalesce(sum(run_histogram[10]), 0)::int, coalesce(sum(run_histogram[11]), 0)::int, coalesce(sum(run_histogram[12]), 0)::int, coalesce(sum(run_histogram[13]), 0)::int, coalesce(sum(run_histogram[14]), 0)::int, coalesce(sum(run_histogram[15]), 0)::int, coalesce(sum(run_histogram[16]), 0)::int, coalesce(sum(run_histogram[17]), 0)::int, coalesce(sum(run_histogram[18]), 0)::int) AS run_histogram,
        json_build_array(coalesce(sum(queue_histogram[1]), 0)::int, coalesce(sum(queue_histogram[2]), 0)::int, coalesce(sum(queue_histogram[3]), 0)::int, coalesce(sum(queue_histogram[4]), 0)::int, coalesce(sum(queue_histogram[5]), 0)::int, coalesce(sum(queue_histogram[6]), 0)::int, coalesce(sum(queue_histogram[7]), 0)::int, coalesce(sum(queue_histogram[8]), 0)::int, coalesce(sum(queue_histogram[9]), 0)::int, coalesce(sum(queue_histogram[10]), 0)::int, coalesce(sum(queue_histogram[11]), 0)::int, coalesce(sum(queue_histogram[12]), 0)::int, coalesce(sum(queue_histogram[13]), 0)::int, coalesce(sum(queue_histogram[14]), 0)::int, coalesce(sum(queue_histogram[15]), 0)::int, coalesce(sum(queue_histogram[16]), 0)::int, coalesce(sum(queue_histogram[17]), 0)::int, coalesce(sum(queue_histogram[18]), 0)::int) AS queue_histogram
      FROM koban.job_metrics
      WHERE minute >= to_timestamp($2 / 1000.0) AND minute < to_timestamp($3 / 1000.0)
        
        
      GROUP BY 1, 2, 3
    ) b
    ORDER BY b.at, b.queue, b.worker;
