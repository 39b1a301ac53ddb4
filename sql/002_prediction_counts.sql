-- Per-client aggregates of the predictions table, kept in step by statement-level triggers, so
-- /api/stats and the history's totals read a few hundred counter rows instead of every prediction
-- of the client (issue 14, D12: at 322k rows, stats loops slowed everyone's predictions tenfold).
--
-- One counter per (scope, kind, key); scope is a client id (the admin's all-clients view sums
-- them: a shared all-clients row would be a lock every INSERT takes, and its upsert cost every
-- INSERT time).
--   kind 4 confusion        key = true_label * 10 + digit
--   kind 5 latency bucket   key = prediction_latency_bucket(total_ms)
--   kind 6 per day (UTC)    key = days since 1970-01-01
--   kind 8 cell             key = confidence * 1000 + digit * 100 + source * 10 + label, where
--                           confidence = floor(confidence * 20) (0..20, the UI's 5% steps),
--                           source 0 canvas / 1 upload / 2 url, label 0 none / 1 correct /
--                           2 incorrect. Totals, labelled, correct, by digit, and the history's
--                           total for any mix of digit, source, status and a 5%-step
--                           minConfidence are sums of cells.
CREATE TABLE prediction_counts (
  scope text     NOT NULL,
  kind  smallint NOT NULL,
  key   integer  NOT NULL,
  n     bigint   NOT NULL,
  PRIMARY KEY (scope, kind, key)
);

-- Latency histogram: bucket b holds (0.05 * 1.15^(b-1), 0.05 * 1.15^b] ms; b = 0 is <= 0.05 ms and
-- 99 everything over ~50 s. 15% wide buckets: percentiles interpolated inside one are within a few
-- percent of the exact ones.
CREATE FUNCTION prediction_latency_bucket(ms real) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT least(99, greatest(0, ceil(ln(greatest(ms, 0.05)::float8 / 0.05) / ln(1.15))))::integer
$$;

CREATE FUNCTION prediction_cell(digit smallint, true_label smallint, source text, confidence real) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT least(20, floor(confidence::float8 * 20))::integer * 1000 + digit * 100
         + (CASE source WHEN 'canvas' THEN 0 WHEN 'upload' THEN 1 ELSE 2 END) * 10
         + (CASE WHEN true_label IS NULL THEN 0 WHEN true_label = digit THEN 1 ELSE 2 END)
$$;

CREATE FUNCTION prediction_day(created_at timestamptz) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT (created_at AT TIME ZONE 'UTC')::date - DATE '1970-01-01'
$$;

-- The counters one row contributes to (for deletes, label changes and the backfill; inserts, the
-- hot path, spell the same out inline below, which plans once and runs as one scan).
CREATE FUNCTION prediction_counters(client_id text, digit smallint, true_label smallint, total_ms real, created_at timestamptz, source text, confidence real)
RETURNS TABLE (scope text, kind smallint, key integer)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT client_id, k.kind::smallint, k.key
  FROM (
    VALUES (5, prediction_latency_bucket(total_ms)),
           (6, prediction_day(created_at)),
           (8, prediction_cell(digit, true_label, source, confidence))
    UNION ALL SELECT 4, true_label * 10 + digit WHERE true_label IS NOT NULL
  ) AS k(kind, key)
$$;

-- Upserts are ordered by key, so concurrent statements lock counters in the same order (no
-- deadlock).
CREATE FUNCTION prediction_counts_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO prediction_counts (scope, kind, key, n)
  SELECT scope, kind, key, count(*)
  FROM (
    SELECT r.client_id AS scope, 5::smallint AS kind, prediction_latency_bucket(r.total_ms) AS key FROM new_rows r
    UNION ALL SELECT r.client_id, 6::smallint, prediction_day(r.created_at) FROM new_rows r
    UNION ALL SELECT r.client_id, 8::smallint, prediction_cell(r.digit, r.true_label, r.source, r.confidence) FROM new_rows r
    UNION ALL SELECT r.client_id, 4::smallint, r.true_label * 10 + r.digit FROM new_rows r WHERE r.true_label IS NOT NULL
  ) AS c
  GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
  ON CONFLICT (scope, kind, key) DO UPDATE SET n = prediction_counts.n + EXCLUDED.n;
  RETURN NULL;
END
$$;

-- Deletes subtract, updates (feedback labels) subtract the old row's counters and add the new's.
CREATE FUNCTION prediction_counts_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    INSERT INTO prediction_counts (scope, kind, key, n)
    SELECT c.scope, c.kind, c.key, -count(*)
    FROM old_rows r, LATERAL prediction_counters(r.client_id, r.digit, r.true_label, r.total_ms, r.created_at, r.source, r.confidence) c
    GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (scope, kind, key) DO UPDATE SET n = prediction_counts.n + EXCLUDED.n;
  ELSE
    INSERT INTO prediction_counts (scope, kind, key, n)
    SELECT scope, kind, key, sum(d)
    FROM (
      SELECT c.scope, c.kind, c.key, 1 AS d
      FROM new_rows r, LATERAL prediction_counters(r.client_id, r.digit, r.true_label, r.total_ms, r.created_at, r.source, r.confidence) c
      UNION ALL
      SELECT c.scope, c.kind, c.key, -1
      FROM old_rows r, LATERAL prediction_counters(r.client_id, r.digit, r.true_label, r.total_ms, r.created_at, r.source, r.confidence) c
    ) d
    GROUP BY 1, 2, 3 HAVING sum(d) <> 0 ORDER BY 1, 2, 3
    ON CONFLICT (scope, kind, key) DO UPDATE SET n = prediction_counts.n + EXCLUDED.n;
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER prediction_counts_insert AFTER INSERT ON predictions
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION prediction_counts_insert();
CREATE TRIGGER prediction_counts_delete AFTER DELETE ON predictions
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION prediction_counts_change();
CREATE TRIGGER prediction_counts_update AFTER UPDATE ON predictions
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION prediction_counts_change();

-- The rows already there.
INSERT INTO prediction_counts (scope, kind, key, n)
SELECT c.scope, c.kind, c.key, count(*)
FROM predictions r, LATERAL prediction_counters(r.client_id, r.digit, r.true_label, r.total_ms, r.created_at, r.source, r.confidence) c
GROUP BY 1, 2, 3;
