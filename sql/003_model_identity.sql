-- Model identity and "not a digit" (issue 15). model_version has been name@sha256-prefix of the
-- weights since this release (older rows keep name@commit-date); the name is split out for
-- per-model queries. uncertain_reason records why an answer was flagged uncertain
-- ('not_a_digit' by the detector, 'low_confidence'), NULL when it was not.
ALTER TABLE predictions ADD COLUMN model_name text GENERATED ALWAYS AS (split_part(model_version, '@', 1)) STORED;
ALTER TABLE predictions ADD COLUMN uncertain_reason text NULL CHECK (uncertain_reason IN ('not_a_digit', 'low_confidence'));
CREATE INDEX predictions_model_recent ON predictions (model_name, created_at DESC);
