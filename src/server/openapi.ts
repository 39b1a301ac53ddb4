// The OpenAPI 3.1 description of every route (served at /api/openapi.json). Kept by hand next to
// the routes; test/server/openapi.test.ts checks that each route is described and every $ref
// resolves.
const err = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });
const json = (ref: string, description: string) => ({ description, content: { 'application/json': { schema: { $ref: `#/components/schemas/${ref}` } } } });
const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } };

const modelParam = { name: 'model', in: 'query', required: false, schema: { type: 'string' }, description: 'a served model by name (GET /api/models); default: the server\'s default model. Unknown: 404 unknown_model' };

export function openApiDocument() {
  return {
    openapi: '3.1.0',
    info: {
      title: 'inkling',
      version: '0.1.0',
      description:
        'Handwritten-digit recognition. History, feedback, deletion and stats are scoped to the caller: an API key (`Authorization: Bearer ink_…`, made with `inkling keys create`; its own rate limit), or else an anonymous client id in the httpOnly cookie `inkling_client` (created on first use, for the web UI); an admin bearer token (INKLING_ADMIN_TOKEN) sees and manages all. A wrong or revoked bearer is 401. Errors are always `{ "error": { "code", "message" } }`.',
    },
    servers: [{ url: '/' }],
    components: {
      securitySchemes: {
        clientCookie: { type: 'apiKey', in: 'cookie', name: 'inkling_client' },
        apiKey: { type: 'http', scheme: 'bearer', description: 'an API key from `inkling keys create` (ink_…)' },
        adminBearer: { type: 'http', scheme: 'bearer', description: 'INKLING_ADMIN_TOKEN' },
      },
      schemas: {
        Error: {
          type: 'object', required: ['error'],
          properties: { error: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string', examples: ['no_digit'] }, message: { type: 'string' } } } },
        },
        BatchResult: {
          type: 'object', required: ['count', 'succeeded', 'failed', 'items'],
          properties: {
            count: { type: 'integer' }, succeeded: { type: 'integer' }, failed: { type: 'integer' },
            items: {
              type: 'array', description: 'one per image, in the order sent',
              items: {
                type: 'object', required: ['index', 'status'],
                properties: {
                  index: { type: 'integer' },
                  status: { type: 'integer', description: '201, or the status the single-image endpoint would answer for this image' },
                  prediction: { $ref: '#/components/schemas/Prediction' },
                  error: { $ref: '#/components/schemas/Error/properties/error' },
                },
              },
            },
          },
        },
        Probabilities: { type: 'array', items: { type: 'number', minimum: 0, maximum: 1 }, minItems: 10, maxItems: 10 },
        Prediction: {
          type: 'object', required: ['id', 'digit', 'confidence', 'probabilities', 'modelVersion', 'input', 'timings', 'logged'],
          properties: {
            id: { type: 'string', format: 'uuid' },
            digit: { type: 'integer', minimum: 0, maximum: 9 },
            confidence: { type: 'number', minimum: 0, maximum: 1 },
            probabilities: { $ref: '#/components/schemas/Probabilities' },
            uncertain: { type: 'boolean', description: 'the not-a-digit detector fired, or the top probability is low' },
            reason: { type: ['string', 'null'], enum: ['not_a_digit', 'low_confidence', null] },
            message: { type: ['string', 'null'], description: 'the reason in words' },
            model: { type: 'string', description: 'the served model that answered (its folder name); choose with ?model=NAME' },
            modelVersion: { type: 'string', description: 'name@ + 12 hex digits of the SHA-256 of the weights' },
            input: { type: 'string', description: 'the 28x28 image the model saw, as a PNG data URL' },
            timings: {
              type: 'object', required: ['decodeMs', 'preprocessMs', 'inferenceMs', 'totalMs'],
              properties: { decodeMs: { type: 'number' }, preprocessMs: { type: 'number' }, inferenceMs: { type: 'number' }, totalMs: { type: 'number' } },
            },
            logged: { type: 'boolean', description: 'false when the database was unreachable: the row waits in the on-disk spool' },
          },
        },
        HistoryItem: {
          type: 'object', required: ['id', 'createdAt', 'source', 'digit', 'confidence', 'probabilities', 'label', 'correct', 'modelVersion', 'totalMs', 'thumbnail', 'input'],
          properties: {
            id: { type: 'string', format: 'uuid' },
            createdAt: { type: 'string', format: 'date-time' },
            source: { type: 'string', enum: ['canvas', 'upload', 'url'] },
            digit: { type: 'integer', minimum: 0, maximum: 9 },
            confidence: { type: 'number' },
            probabilities: { $ref: '#/components/schemas/Probabilities' },
            label: { type: ['integer', 'null'], minimum: 0, maximum: 9 },
            correct: { type: ['boolean', 'null'] },
            modelVersion: { type: 'string' },
            totalMs: { type: 'number' },
            thumbnail: { type: 'string', description: 'PNG data URL, at most 128 px' },
            input: { type: 'string', description: '28x28 PNG data URL' },
          },
        },
        HistoryPage: {
          type: 'object', required: ['items', 'nextCursor', 'total', 'totalExact'],
          properties: {
            items: { type: 'array', items: { $ref: '#/components/schemas/HistoryItem' } },
            nextCursor: { type: ['string', 'null'] },
            total: { type: 'integer', description: 'rows matching the filters (all pages); with several filters at once, counted up to 10,000' },
            totalExact: { type: 'boolean', description: 'false when total is the 10,000 cap ("at least")' },
          },
        },
        Stats: {
          type: 'object', required: ['total', 'labelled', 'correct', 'accuracy', 'confusion', 'perDay', 'latency', 'byDigit'],
          properties: {
            total: { type: 'integer' }, labelled: { type: 'integer' }, correct: { type: 'integer' },
            accuracy: { type: ['number', 'null'] },
            confusion: { type: 'array', description: 'confusion[trueLabel][predicted]', items: { type: 'array', items: { type: 'integer' } } },
            perDay: { type: 'array', items: { type: 'object', properties: { day: { type: 'string', format: 'date' }, count: { type: 'integer' } } } },
            latency: { type: 'object', description: 'server-side total ms, from a histogram of 15%-wide buckets (interpolated)', properties: { p50: { type: ['number', 'null'] }, p90: { type: ['number', 'null'] }, p95: { type: ['number', 'null'] }, p99: { type: ['number', 'null'] } } },
            byDigit: { type: 'array', items: { type: 'integer' } },
          },
        },
        Model: {
          type: 'object', required: ['version', 'architecture', 'parameters', 'temperature', 'backend'],
          properties: {
            name: { type: 'string' }, version: { type: 'string' }, architecture: { type: 'string' }, architectureDetail: { type: ['string', 'null'] },
            parameters: { type: 'integer' }, accuracy: { type: ['number', 'null'] }, validationAccuracy: { type: ['number', 'null'] },
            temperature: { type: 'number' }, backend: { type: 'string' },
            batching: { type: 'object', properties: { maxBatch: { type: 'integer' }, maxWaitMs: { type: 'number' } } },
          },
        },
        PredictJson: {
          type: 'object', additionalProperties: false,
          properties: {
            image: { type: 'string', description: 'data URL or base64 of a PNG/JPEG/WebP/GIF' },
            url: { type: 'string', format: 'uri', description: 'http(s) URL of an image on a public address' },
            source: { type: 'string', enum: ['canvas', 'upload', 'url'] },
          },
        },
      },
    },
    security: [{ apiKey: [] }, { clientCookie: [] }, { adminBearer: [] }],
    paths: {
      '/api/predictions': {
        post: {
          summary: 'Predict the digit in an image',
          parameters: [{ name: 'source', in: 'query', required: false, schema: { type: 'string', enum: ['canvas', 'upload', 'url'] }, description: 'for raw bodies' }, modelParam],
          requestBody: {
            required: true,
            content: {
              'image/png': { schema: { type: 'string', format: 'binary' } },
              'image/jpeg': { schema: { type: 'string', format: 'binary' } },
              'image/webp': { schema: { type: 'string', format: 'binary' } },
              'image/gif': { schema: { type: 'string', format: 'binary' } },
              'application/octet-stream': { schema: { type: 'string', format: 'binary' }, description: 'any of the formats above; sniffed from the bytes' },
              'multipart/form-data': { schema: { type: 'object', required: ['image'], properties: { image: { type: 'string', format: 'binary' }, source: { type: 'string', enum: ['canvas', 'upload', 'url'] } } } },
              'application/json': { schema: { $ref: '#/components/schemas/PredictJson' } },
            },
          },
          responses: {
            201: json('Prediction', 'the prediction, stored: in the database (logged: true) or in the on-disk spool (logged: false), durably either way'),
            400: err('bad input: empty body, corrupt image, bad base64 or JSON, malformed multipart, URL refused'),
            408: err('body_timeout: the body did not arrive within the body timeout'),
            413: err('body over 5 MB, or image over the pixel limit'),
            415: err('not a PNG/JPEG/WebP/GIF (SVG refused)'),
            422: err('no_digit: the image is blank'),
            429: err('rate limited (Retry-After, RateLimit-* headers)'),
            500: err('storage_failed: the database refused the row'),
            502: err('the URL could not be fetched'),
            503: err('server_busy (the body budget is spent) or storage_unavailable (neither the database nor the spool can store it); Retry-After says when to retry'),
            504: err('the URL did not answer in 5 s'),
          },
        },
        get: {
          summary: 'History, newest first',
          parameters: [
            { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 } },
            { name: 'cursor', in: 'query', schema: { type: 'string' }, description: 'nextCursor of the previous page' },
            { name: 'digit', in: 'query', schema: { type: 'integer', minimum: 0, maximum: 9 } },
            { name: 'status', in: 'query', schema: { type: 'string', enum: ['correct', 'incorrect', 'unlabelled', 'labelled'] } },
            { name: 'source', in: 'query', schema: { type: 'string', enum: ['canvas', 'upload', 'url'] } },
            { name: 'minConfidence', in: 'query', schema: { type: 'number', minimum: 0, maximum: 1 } },
            { name: 'from', in: 'query', schema: { type: 'string', format: 'date-time' }, description: 'created at or after' },
            { name: 'to', in: 'query', schema: { type: 'string', format: 'date-time' }, description: 'created before' },
          ],
          responses: { 200: json('HistoryPage', 'one page'), 400: err('bad query'), 503: err('database unreachable') },
        },
        delete: { summary: 'Delete all of the caller\'s predictions (all, for the admin)', responses: { 200: { description: 'deleted', content: { 'application/json': { schema: { type: 'object', properties: { deleted: { type: 'integer' } } } } } }, 503: err('database unreachable') } },
      },
      '/api/predictions/{id}': {
        get: { summary: 'One prediction', parameters: [idParam], responses: { 200: json('HistoryItem', 'the prediction'), 404: err('unknown id or not yours') } },
        delete: { summary: 'Delete one prediction', parameters: [idParam], responses: { 204: { description: 'deleted' }, 404: err('unknown id or not yours') } },
      },
      '/api/predictions/{id}/feedback': {
        put: {
          summary: 'Store the true label',
          parameters: [idParam],
          requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['label'], additionalProperties: false, properties: { label: { type: 'integer', minimum: 0, maximum: 9 } } } } } },
          responses: { 200: json('HistoryItem', 'the updated prediction'), 400: err('label not an integer 0..9'), 404: err('unknown id or not yours'), 415: err('not JSON') },
        },
      },
      '/api/stats': { get: { summary: 'Totals, accuracy on labelled predictions, confusion matrix, per day (30 days), latency percentiles', responses: { 200: json('Stats', 'stats'), 503: err('database unreachable') } } },
      '/api/model': { get: { summary: 'The default model', responses: { 200: json('Model', 'the model') } } },
      '/api/models': { get: { summary: 'Every served model with its card and not-a-digit detector; the default and why', responses: { 200: { description: 'the models', content: { 'application/json': { schema: { type: 'object' } } } } } } },
      '/api/admin/reload': { post: { summary: 'Rescan the model folder (like SIGHUP); admin token only', responses: { 200: { description: 'what was added, changed, removed', content: { 'application/json': { schema: { type: 'object' } } } }, 403: { description: 'not the admin' } } } },
      '/api/predictions/batch': {
        post: {
          summary: 'Predict up to 256 images in one request (one result each, all logged in one INSERT)',
          parameters: [modelParam],
          requestBody: {
            required: true,
            content: {
              'multipart/form-data': { schema: { type: 'object', properties: { images: { type: 'array', maxItems: 256, items: { type: 'string', format: 'binary' } }, source: { type: 'string', enum: ['canvas', 'upload', 'url'] } } } },
              'application/json': {
                schema: {
                  oneOf: [
                    { type: 'array', maxItems: 256, items: { type: 'string', description: 'data URL or base64' } },
                    { type: 'object', required: ['images'], additionalProperties: false, properties: { images: { type: 'array', maxItems: 256, items: { type: 'string' } }, source: { type: 'string', enum: ['canvas', 'upload', 'url'] } } },
                  ],
                },
              },
            },
          },
          responses: {
            200: json('BatchResult', 'one result per image; a bad image fails alone'),
            400: err('no image, more than 256, bad JSON'),
            413: err('body over 4x INKLING_MAX_BODY_BYTES'),
            404: err('unknown_model: no served model of that name'),
            415: err('neither multipart nor JSON'),
            429: err('rate limited'),
            503: err('the predictions could not be stored (database unreachable and spool full: none acknowledged), or the server is reading too many bodies; Retry-After'),
          },
        },
      },
      '/api/openapi.json': { get: { summary: 'This document', security: [], responses: { 200: { description: 'OpenAPI 3.1', content: { 'application/json': { schema: { type: 'object' } } } } } } },
      '/healthz': { get: { summary: 'Liveness', security: [], responses: { 200: { description: 'the process is up', content: { 'application/json': { schema: { type: 'object', properties: { status: { const: 'ok' } } } } } } } } },
      '/readyz': {
        get: {
          summary: 'Readiness: model loaded and database reachable', security: [],
          responses: {
            200: { description: 'ready', content: { 'application/json': { schema: { type: 'object' } } } },
            503: { description: 'not ready', content: { 'application/json': { schema: { type: 'object' } } } },
          },
        },
      },
      '/metrics': { get: { summary: 'Prometheus metrics', security: [], responses: { 200: { description: 'text exposition format', content: { 'text/plain': { schema: { type: 'string' } } } } } } },
    },
  };
}
