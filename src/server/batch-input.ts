// The body of POST /api/predictions/batch, reduced to a list of images (bytes, or the reason one
// item is unusable) + source:
//   multipart/form-data: every file field, in order (name them "images" or "image"), + "source"
//   JSON: { "images": ["<data URL or base64>", …], "source"? }  or a bare array of such strings
// At most BATCH_MAX_IMAGES items; each image at most the single-image limit
// (INKLING_MAX_BODY_BYTES); the whole body at most BATCH_BODY_FACTOR times that. Bodies are read
// like every other (request-body.ts: body budget, timeout, every stream error handled).
import type { Context } from 'koa';
import { z } from 'zod';
import { ApiError, badRequest } from './errors.ts';
import { decodeBase64Image, parseJson, parseSource, SOURCES, type Source } from './image-input.ts';
import { readBody, type BodyLimits } from './request-body.ts';
import { readMultipart } from './multipart.ts';

export const BATCH_MAX_IMAGES = 256;
export const BATCH_BODY_FACTOR = 4;

export type BatchItem = { bytes: Buffer } | { error: ApiError };
export interface BatchInput {
  items: BatchItem[];
  source: Source;
}

const tooMany = (n: number | string) => badRequest('too_many_images', `a batch holds at most ${BATCH_MAX_IMAGES} images (got ${n}); split it`);
const imageTooLarge = (limit: number) => new ApiError(413, 'payload_too_large', `this image is over the ${limit}-byte limit`);

const jsonBatch = z.union([
  z.array(z.string()),
  z.object({ images: z.array(z.string()), source: z.enum(SOURCES).optional() }).strict(),
]);

export async function readBatchInput(ctx: Context, limits: BodyLimits, imageLimit: number): Promise<BatchInput> {
  const bodyLimit = imageLimit * BATCH_BODY_FACTOR;
  const type = (ctx.get('content-type') || '').split(';')[0].trim().toLowerCase();
  let items: BatchItem[];
  let source: Source;
  if (type === 'multipart/form-data') {
    const form = await readMultipart(ctx, limits, {
      fileBytes: imageLimit,
      bodyBytes: bodyLimit,
      maxFiles: BATCH_MAX_IMAGES,
      oversize: 'mark',
      tooManyFiles: () => tooMany(`more than ${BATCH_MAX_IMAGES}`),
    });
    items = form.files.map((f) => (f.bytes ? { bytes: f.bytes } : { error: imageTooLarge(imageLimit) }));
    source = parseSource(form.fields.get('source'), 'upload');
  } else if (type === 'application/json') {
    const text = await readBody(ctx, limits, Math.ceil(bodyLimit * 1.4)); // base64 inflates by 4/3
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
  items = items.map((it) => ('bytes' in it && it.bytes.length === 0 ? { error: badRequest('empty_body', 'this image is empty') } : it));
  return { items, source };
}
