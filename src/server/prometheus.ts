// Prometheus metrics (prom-client), one registry per app so tests can run several apps.
import client from 'prom-client';

export function createMetrics() {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });
  const requests = new client.Counter({ name: 'inkling_http_requests_total', help: 'HTTP requests', labelNames: ['method', 'route', 'status'], registers: [registry] });
  const duration = new client.Histogram({
    name: 'inkling_http_request_duration_seconds', help: 'HTTP request duration', labelNames: ['route'],
    buckets: [0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers: [registry],
  });
  const predictions = new client.Counter({ name: 'inkling_predictions_total', help: 'Predictions answered', labelNames: ['digit', 'logged'], registers: [registry] });
  const noDigit = new client.Counter({ name: 'inkling_no_digit_total', help: 'Images answered 422 no_digit', registers: [registry] });
  const batchSize = new client.Histogram({ name: 'inkling_inference_batch_size', help: 'Images per forward pass', buckets: [1, 2, 4, 8, 16, 32, 64, 128], registers: [registry] });
  const inferenceSeconds = new client.Histogram({ name: 'inkling_inference_seconds', help: 'Forward pass time per batch', buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1], registers: [registry] });
  const dbUp = new client.Gauge({ name: 'inkling_database_up', help: '1 when prediction writes go to the database, 0 while spooling', registers: [registry] });
  const spoolRows = new client.Gauge({ name: 'inkling_spool_rows', help: 'Prediction rows waiting in the on-disk spool', registers: [registry] });
  const spoolBytes = new client.Gauge({ name: 'inkling_spool_bytes', help: 'Bytes of the on-disk spool', registers: [registry] });
  const refused = new client.Counter({ name: 'inkling_predictions_refused_total', help: 'Predictions answered 503 because neither the database nor the spool could store them', registers: [registry] });
  const bodyBytes = new client.Gauge({ name: 'inkling_body_bytes_in_flight', help: 'Request-body bytes reserved in the body budget', registers: [registry] });
  const bodyBusy = new client.Gauge({ name: 'inkling_body_budget_refused_total', help: 'Requests answered 503 server_busy because the body budget was spent', registers: [registry] });
  const largeDecodesWaiting = new client.Gauge({ name: 'inkling_large_decodes_waiting', help: 'Large images (photos, PNGs over 1 megapixel) waiting for a decode slot (INKLING_LARGE_DECODES)', registers: [registry] });
  return { registry, requests, duration, predictions, noDigit, batchSize, inferenceSeconds, dbUp, spoolRows, spoolBytes, refused, bodyBytes, bodyBusy, largeDecodesWaiting };
}
export type Metrics = ReturnType<typeof createMetrics>;
