// The four ways POST /api/predictions receives an image, reduced to bytes + source:
//   raw body with Content-Type image/png|jpeg|webp|gif or application/octet-stream -> source "upload" (or ?source=)
//   multipart/form-data, file field "image" (+ field "source")
//   JSON { "image": "<data URL or base64>", "source"? }
//   JSON { "url": "https://...", "source"? }                -> fetched (url-fetch.ts), source "url"
// Bodies are read through request-body.ts (byte limit, body budget, timeout, every stream error
// handled); multipart is parsed by multipart.ts, fed from that same reader.
import type { Context } from 'koa';
import { z } from 'zod';
import { ApiError, badRequest } from './errors.ts';
import { fetchImage, type FetchPolicy } from './url-fetch.ts';
import { readBody, tooLarge, type BodyLimits } from './request-body.ts';
import { readMultipart } from './multipart.ts';

export type Source = 'canvas' | 'upload' | 'url';
export const SOURCES = ['canvas', 'upload', 'url'] as const;
// application/octet-stream: the format is sniffed from the bytes anyway (src/preprocess/decode).
const RAW_TYPES = new Set(['image/png', 'image/jpeg', 'image/jpg', 'image/webp', 'image/gif', 'application/octet-stream']);

export interface ImageInput {
  bytes: Buffer;
  source: Source;
}

export function parseSource(v: unknown, fallback: Source): Source {
  if (v === undefined || v === null || v === '') return fallback;
  if (typeof v === 'string' && (SOURCES as readonly string[]).includes(v)) return v as Source;
  throw badRequest('invalid_source', `source must be one of ${SOURCES.join(', ')}`);
}

/** A JSON request body, or 400 invalid_json. */
export function parseJson(text: Buffer): unknown {
  try {
    return JSON.parse(text.toString('utf8'));
  } catch {
    throw badRequest('invalid_json', 'the body is not valid JSON');
  }
}

/** Decodes a data URL or bare base64 (standard or URL-safe alphabet). */
export function decodeBase64Image(s: string): Buffer {
  let payload = s.trim();
  const m = /^data:([\w/+.-]+)?(;[\w-]+=[\w-]+)*;base64,/i.exec(payload);
  if (m) payload = payload.slice(m[0].length);
  else if (payload.startsWith('data:')) throw badRequest('invalid_base64', 'data URLs must be base64-encoded (data:image/png;base64,...)');
  payload = payload.replace(/\s+/g, '');
  if (payload.length === 0) throw badRequest('invalid_base64', 'the image string is empty');
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(payload) || payload.length % 4 === 1) {
    throw badRequest('invalid_base64', 'the image string is not valid base64 (or a base64 data URL)');
  }
  return Buffer.from(payload, payload.includes('-') || payload.includes('_') ? 'base64url' : 'base64');
}

const jsonBody = z
  .object({
    image: z.string().optional(),
    url: z.string().optional(),
    source: z.enum(SOURCES).optional(),
  })
  .strict();

export async function readImageInput(ctx: Context, limits: BodyLimits, limit: number, policy: FetchPolicy): Promise<ImageInput> {
  const type = (ctx.get('content-type') || '').split(';')[0].trim().toLowerCase();
  const querySource = ctx.query.source;
  if (RAW_TYPES.has(type)) {
    const bytes = await readBody(ctx, limits, limit);
    if (bytes.length === 0) throw badRequest('empty_body', 'the request body is empty: send the image bytes');
    return { bytes, source: parseSource(querySource, 'upload') };
  }
  if (type === 'multipart/form-data') {
    const form = await readMultipart(ctx, limits, {
      fileBytes: limit,
      bodyBytes: limit + 64 * 1024,
      maxFiles: 1,
      fileFields: ['image'],
      oversize: 'fail',
      tooManyFiles: () => badRequest('invalid_multipart', 'send one file, in the field "image"'),
    });
    const bytes = form.files[0]?.bytes;
    if (!bytes) throw badRequest('missing_image', 'the multipart request has no file field "image"');
    if (bytes.length === 0) throw badRequest('empty_body', 'the "image" file is empty');
    return { bytes, source: parseSource(form.fields.get('source'), 'upload') };
  }
  if (type === 'application/json') {
    const text = await readBody(ctx, limits, Math.ceil(limit * 1.4) + 1024); // base64 inflates by 4/3
    if (text.length === 0) throw badRequest('empty_body', 'the request body is empty: send {"image": "<data URL or base64>"} or {"url": "https://..."}');
    const parsed = jsonBody.safeParse(parseJson(text));
    if (!parsed.success) {
      const i = parsed.error.issues[0];
      // The issue's own text can list every unknown key of a hostile body: keep its start only.
      const what = i.message.length > 120 ? `${i.message.slice(0, 117)}...` : i.message;
      throw badRequest('invalid_body', `${i.path.join('.').slice(0, 60) || 'body'}: ${what} (expected {"image": string} or {"url": string}, optional "source": canvas|upload|url)`);
    }
    const b = parsed.data;
    if ((b.image === undefined) === (b.url === undefined)) throw badRequest('invalid_body', 'send exactly one of "image" (data URL or base64) and "url"');
    if (b.url !== undefined) return { bytes: await fetchImage(b.url, policy), source: 'url' };
    const bytes = decodeBase64Image(b.image!);
    if (bytes.length > limit) throw tooLarge(limit);
    return { bytes, source: b.source ?? 'upload' };
  }
  if (type === 'image/svg+xml') throw new ApiError(415, 'unsupported_media_type', 'SVG is not accepted; send a PNG, JPEG, WebP or GIF');
  throw new ApiError(415, 'unsupported_media_type', `Content-Type ${JSON.stringify(type || 'missing')} is not accepted: send image/png|jpeg|webp|gif bytes, multipart/form-data with a file field "image", or application/json`);
}
