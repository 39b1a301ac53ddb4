// What the app is built from (config, pool, models, batcher, log, metrics...): its own module, so
// that the routes, which receive it, do not import app.ts, which mounts them (scripts/check-layers.mjs
// refuses that cycle).
import type { DatabasePool } from 'slonik';
import type { Logger } from 'pino';
import type { Config } from './config.ts';
import type { LoadedModel } from './model.ts';
import type { InferenceBatcher } from './inference-batcher.ts';
import type { ModelRegistry } from '../model/registry.ts';
import type { PreprocessPool } from './preprocess-pool.ts';
import type { PredictionLog } from './prediction-log.ts';
import type { Metrics } from './prometheus.ts';
import type { FetchPolicy } from './url-fetch.ts';
import type { BodyLimits } from './request-body.ts';
import type { CircuitBreaker } from './circuit-breaker.ts';

export interface AppDeps {
  config: Config;
  pool: DatabasePool;
  /** Every served model (`?model=NAME`), one the default; reloadable. */
  models: ModelRegistry<InferenceBatcher>;
  /** The default model and its batcher (getters: they follow reloads). */
  readonly model: LoadedModel;
  readonly batcher: InferenceBatcher;
  preprocess: PreprocessPool;
  log: PredictionLog;
  /** The database's circuit breaker (db/availability.ts): reads go through guardedQuery. */
  dbBreaker: CircuitBreaker;
  metrics: Metrics;
  logger: Logger;
  fetchPolicy: FetchPolicy;
  /** The body budget and timeout every route's body reading goes through (request-body.ts). */
  body: BodyLimits;
  shuttingDown: () => boolean;
  webDir?: string;
}
