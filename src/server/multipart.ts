// A multipart/form-data body through busboy, fed by request-body.ts (byte limit, body budget,
// timeout, the request stream's own errors). Every failure of the form (cut off, no closing
// boundary, a bad boundary, a part without headers, too many files, a client that hangs up)
// settles the promise with a 4xx: busboy and every file stream have 'error' listeners (without
// one, the file stream's "Unexpected end of form" was an uncaught exception that ended the
// process: issue 14, D1). Used by the single-image upload (one file) and the batch (up to 256).
import type { Context } from 'koa';
import busboy from 'busboy';
import { ApiError, badRequest } from './errors.ts';
import { streamBody, tooLarge, type BodyLimits } from './request-body.ts';

export interface FormFile {
  field: string;
  /** null: the file was over `fileBytes` (and `oversize` was 'mark'). */
  bytes: Buffer | null;
}

export interface MultipartForm {
  files: FormFile[];
  fields: Map<string, string>;
}

export interface MultipartOptions {
  /** Each file at most this many bytes. */
  fileBytes: number;
  /** The whole body at most this many bytes. */
  bodyBytes: number;
  maxFiles: number;
  /** File fields kept (others are read and discarded); undefined = every file field. */
  fileFields?: string[];
  /** A file over `fileBytes`: fail the request (413), or keep it as `bytes: null`. */
  oversize: 'fail' | 'mark';
  /** The answer when more than `maxFiles` files arrive. */
  tooManyFiles: () => ApiError;
}

export const invalidMultipart = (why: string) => badRequest('invalid_multipart', `malformed multipart request: ${why}`);

export function readMultipart(ctx: Context, limits: BodyLimits, opts: MultipartOptions): Promise<MultipartForm> {
  let bb: busboy.Busboy;
  try {
    bb = busboy({ headers: ctx.req.headers, limits: { fileSize: opts.fileBytes, files: opts.maxFiles, fields: 10, fieldSize: 1024, parts: opts.maxFiles + 11, headerPairs: 20 } });
  } catch (e) {
    return Promise.reject(invalidMultipart((e as Error).message));
  }
  return new Promise((resolve, reject) => {
    const files: FormFile[] = [];
    const fields = new Map<string, string>();
    let settled = false;
    const fail = (err: unknown) => {
      if (settled) return;
      settled = true;
      bb.destroy();
      reject(err);
    };
    bb.on('file', (field, stream) => {
      stream.on('error', (e: Error) => fail(invalidMultipart(e.message)));
      if (opts.fileFields && !opts.fileFields.includes(field)) {
        stream.resume(); // not ours: read and discard
        return;
      }
      const file: FormFile = { field, bytes: null };
      files.push(file);
      const chunks: Buffer[] = [];
      let over = false;
      stream.on('limit', () => {
        if (opts.oversize === 'fail') fail(tooLarge(opts.fileBytes));
        over = true;
      });
      stream.on('data', (c: Buffer) => {
        if (!over) chunks.push(c);
      });
      stream.on('end', () => {
        file.bytes = over ? null : Buffer.concat(chunks);
      });
    });
    bb.on('field', (name, value) => fields.set(name, value));
    bb.on('filesLimit', () => fail(opts.tooManyFiles()));
    bb.on('partsLimit', () => fail(invalidMultipart('too many parts')));
    bb.on('fieldsLimit', () => fail(invalidMultipart('too many fields')));
    bb.on('error', (e: Error) => fail(invalidMultipart(e.message)));
    bb.on('close', () => {
      if (settled) return;
      settled = true;
      resolve({ files, fields });
    });
    // The request is fed to busboy by hand (not piped), so the request's own errors, the body
    // limit and the timeout are the reader's, and busboy only ever sees bytes.
    streamBody(ctx, limits, opts.bodyBytes, (c) => {
      if (!settled) bb.write(c);
    }).then(
      () => {
        if (!settled) bb.end();
      },
      fail,
    );
  });
}
