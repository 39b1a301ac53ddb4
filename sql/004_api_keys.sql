-- API keys for integrators (inkling keys create|list|revoke). The key itself is shown once, at
-- creation; only its SHA-256 is stored (keys are 192-bit random strings, so a fast hash is
-- enough: there is nothing to brute-force). Predictions made with a key are stored under the
-- client id 'key:<id>', so history, feedback and stats are scoped to the key like a cookie
-- client's are to its cookie.
CREATE TABLE api_keys (
  id          uuid        PRIMARY KEY,
  prefix      text        NOT NULL UNIQUE CHECK (prefix ~ '^[A-Za-z0-9_-]{8,32}$'),
  secret_hash bytea       NOT NULL CHECK (length(secret_hash) = 32),
  name        text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  rate_limit  integer     NULL CHECK (rate_limit >= 0),
  created_at  timestamptz NOT NULL DEFAULT now(),
  revoked_at  timestamptz NULL
);
