// The body of POST /api/predictions/batch, reduced to a list of images (bytes, or the reason one
// item is unusable) + source:
//   multipart/form-data: every file field, in order (name them "images" or "image"), + "source"
//   JSON: { "images": ["<data URL or base64>", …], "source"? }  or a bare array of such strings
// At most BATCH_MAX_IMAGES items; each image at most the single-image limit
// (INKLING_MAX_BODY_BYTES); the whole body at most BATCH_BODY_FACTOR times that.
import type { Context } from 'koa';
import busboy from 'busboy';
import { z } from 'zod';
import { ApiError, badRequest } from './errors.ts';
import { decodeBase64Image, parseJson, parseSource, readBody, SOURCES, type Source } from './image-input.ts';

export const BATCH_MAX_IMAGES = 256;
export const BATCH_BODY_FACTOR = 4;

export type BatchItem = { bytes: Buffer } | { error: ApiError };
export interface BatchInput {
  items: BatchItem[];
  source: Source;
}

const tooMany = (n: number) => badRequest('too_many_images', `a batch holds at most ${BATCH_MAX_IMAGES} images (got ${n}); split it`);
const bodyTooLarge = (limit: number) => new ApiError(413, 'payload_too_large', `the batch body is over ${limit} bytes (${BATCH_BODY_FACTOR}x INKLING_MAX_BODY_BYTES); split it`);
const imageTooLarge = (limit: number) => new ApiError(413, 'payload_too_large', `this image is over the ${limit}-byte limit`);

function multipartBatch(ctx: Context, imageLimit: number, bodyLimit: number): Promise<{ items: BatchItem[]; source: unknown }> {
  return new Promise((resolve, reject) => {
    let bb: busboy.Busboy;
    try {
      bb = busboy({ headers: ctx.req.headers, limits: { fileSize: imageLimit, files: BATCH_MAX_IMAGES + 1, fields: 10, fieldSize: 1024, parts: BATCH_MAX_IMAGES + 12 } });
    } catch (e) {
      reject(badRequest('invalid_multipart', `malformed multipart request: ${(e as Error).message}`));
      return;
    }
    const items: BatchItem[] = [];
    let source: unknown;
    let failed: ApiError | null = null;
    let size = 0;
    bb.on('file', (_name, stream) => {
      const slot = items.length;
      items.push({ bytes: Buffer.alloc(0) });
      const chunks: Buffer[] = [];
      let over = false;
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('limit', () => (over = true));
      stream.on('error', () => {});
      stream.on('end', () => {
        items[slot] = over ? { error: imageTooLarge(imageLimit) } : { bytes: Buffer.concat(chunks) };
      });
    });
    bb.on('field', (name, value) => {
      if (name === 'source') source = value;
    });
    bb.on('filesLimit', () => (failed ??= tooMany(BATCH_MAX_IMAGES + 1)));
    bb.on('error', (e: Error) => reject(badRequest('invalid_multipart', `malformed multipart request: ${e.message}`)));
    bb.on('close', () => (failed ? reject(failed) : resolve({ items, source })));
    ctx.req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > bodyLimit && !failed) {
        failed = bodyTooLarge(bodyLimit);
        ctx.req.unpipe(bb);
        ctx.req.resume();
        reject(failed);
      }
    });
    ctx.req.on('error', (e) => reject(badRequest('invalid_multipart', `the request body broke off: ${e.message}`)));
    ctx.req.pipe(bb);
  });
}

const jsonBatch = z.union([
  z.array(z.string()),
  z.object({ images: z.array(z.string()), source: z.enum(SOURCES).optional() }).strict(),
]);

export async function readBatchInput(ctx: Context, imageLimit: number): Promise<BatchInput> {
  const bodyLimit = imageLimit * BATCH_BODY_FACTOR;
  const type = (ctx.get('content-type') || '').split(';')[0].trim().toLowerCase();
  let items: BatchItem[];
  let source: Source;
  if (type === 'multipart/form-data') {
    if (Number(ctx.get('content-length') || 0) > bodyLimit) throw bodyTooLarge(bodyLimit);
    const m = await multipartBatch(ctx, imageLimit, bodyLimit);
    items = m.items;
    source = parseSource(m.source, 'upload');
  } else if (type === 'application/json') {
    const text = await readBody(ctx, Math.ceil(bodyLimit * 1.4));
    const parsed = jsonBatch.safeParse(parseJson(text));
    if (!parsed.success) throw badRequest('invalid_body', 'expected {"images": ["<data URL or base64>", …], "source"?} or a JSON array of such strings');
    const list = Array.isArray(parsed.data) ? parsed.data : parsed.data.images;
    source = Array.isArray(parsed.data) ? 'upload' : (parsed.data.source ?? 'upload');
    if (list.length > BATCH_MAX_IMAGES) throw tooMany(list.length);
    items = list.map((s) => {
      try {
        const bytes = decodeBase64Image(s);
        return bytes.length > imageLimit ? { error: imageTooLarge(imageLimit) } : { bytes };
      } catch (err) {
        if (err instanceof ApiError) return { error: err };
        throw err;
      }
    });
  } else {
    throw new ApiError(415, 'unsupported_media_type', `Content-Type ${JSON.stringify(type || 'missing')} is not accepted for a batch: send multipart/form-data with one file per image, or application/json {"images": [...]}`);
  }
  if (items.length === 0) throw badRequest('empty_batch', 'the batch holds no image');
  if (items.length > BATCH_MAX_IMAGES) throw tooMany(items.length);
  items = items.map((it) => ('bytes' in it && it.bytes.length === 0 ? { error: badRequest('empty_body', 'this image is empty') } : it));
  return { items, source };
}
