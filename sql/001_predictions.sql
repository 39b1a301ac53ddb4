-- Every answered prediction, scoped to the anonymous client that asked for it.
-- id and created_at come from the service (so rows replayed from the spool keep them).
CREATE TABLE predictions (
  id            uuid        PRIMARY KEY,
  created_at    timestamptz NOT NULL,
  client_id     text        NOT NULL,
  source        text        NOT NULL CHECK (source IN ('canvas', 'upload', 'url')),
  digit         smallint    NOT NULL CHECK (digit BETWEEN 0 AND 9),
  confidence    real        NOT NULL CHECK (confidence >= 0 AND confidence <= 1),
  probabilities real[]      NOT NULL CHECK (array_length(probabilities, 1) = 10),
  true_label    smallint    NULL CHECK (true_label BETWEEN 0 AND 9),
  model_version text        NOT NULL,
  decode_ms     real        NOT NULL,
  preprocess_ms real        NOT NULL,
  inference_ms  real        NOT NULL,
  total_ms      real        NOT NULL,
  input_png     bytea       NOT NULL,
  thumbnail_png bytea       NOT NULL
);

-- History is keyset-paginated newest first, per client (and across clients for the admin).
CREATE INDEX predictions_client_recent ON predictions (client_id, created_at DESC, id DESC);
CREATE INDEX predictions_recent ON predictions (created_at DESC, id DESC);
-- Filters: digit, source, labelled/unlabelled.
CREATE INDEX predictions_client_digit ON predictions (client_id, digit, created_at DESC);
CREATE INDEX predictions_client_source ON predictions (client_id, source, created_at DESC);
CREATE INDEX predictions_client_labelled ON predictions (client_id, created_at DESC) WHERE true_label IS NOT NULL;
