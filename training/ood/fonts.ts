// Fonts for synthetic text (letters and typed numbers), from @fontsource npm packages so that
// nothing depends on the system's fonts. They ship WOFF files; sharp's text renderer (Pango +
// FreeType) wants a font file it can name, so each WOFF is unpacked once into a plain TrueType
// file in a cache folder (WOFF 1.0 is the sfnt tables, each zlib-compressed, behind a directory).
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { inflateSync } from 'node:zlib';

export interface FontFace {
  /** Family name inside the font file (what Pango selects by). */
  family: string;
  /** @fontsource package. */
  pkg: string;
  style: 'handwriting' | 'typed';
}

/** Split by family: the detector is fitted on FIT_FONTS and judged on the held-out HELD_OUT_FONTS. */
export const FIT_FONTS: FontFace[] = [
  { family: 'Caveat', pkg: '@fontsource/caveat', style: 'handwriting' },
  { family: 'Kalam', pkg: '@fontsource/kalam', style: 'handwriting' },
  { family: 'Dancing Script', pkg: '@fontsource/dancing-script', style: 'handwriting' },
  { family: 'Roboto', pkg: '@fontsource/roboto', style: 'typed' },
  { family: 'Roboto Slab', pkg: '@fontsource/roboto-slab', style: 'typed' },
  { family: 'Shadows Into Light', pkg: '@fontsource/shadows-into-light', style: 'handwriting' },
  { family: 'Gloria Hallelujah', pkg: '@fontsource/gloria-hallelujah', style: 'handwriting' },
  { family: 'Architects Daughter', pkg: '@fontsource/architects-daughter', style: 'handwriting' },
  { family: 'Permanent Marker', pkg: '@fontsource/permanent-marker', style: 'handwriting' },
];
export const HELD_OUT_FONTS: FontFace[] = [
  { family: 'Indie Flower', pkg: '@fontsource/indie-flower', style: 'handwriting' },
  { family: 'Patrick Hand', pkg: '@fontsource/patrick-hand', style: 'handwriting' },
  { family: 'Reenie Beanie', pkg: '@fontsource/reenie-beanie', style: 'handwriting' },
  { family: 'Roboto Mono', pkg: '@fontsource/roboto-mono', style: 'typed' },
];

/** WOFF 1.0 → sfnt (TrueType/OpenType) bytes. */
export function woffToSfnt(woff: Uint8Array): Buffer {
  const dv = new DataView(woff.buffer, woff.byteOffset, woff.byteLength);
  if (woff.length < 44 || dv.getUint32(0) !== 0x774f4646) throw new Error('not a WOFF 1.0 file (signature wOFF)');
  const flavor = dv.getUint32(4);
  const numTables = dv.getUint16(12);
  const tables = Array.from({ length: numTables }, (_, i) => {
    const o = 44 + i * 20;
    return { tag: dv.getUint32(o), offset: dv.getUint32(o + 4), compLength: dv.getUint32(o + 8), origLength: dv.getUint32(o + 12), checksum: dv.getUint32(o + 16) };
  });
  const pad4 = (n: number) => (n + 3) & ~3;
  const out = Buffer.alloc(12 + 16 * numTables + tables.reduce((s, t) => s + pad4(t.origLength), 0));
  let log2 = 0;
  while (1 << (log2 + 1) <= numTables) log2++;
  out.writeUInt32BE(flavor, 0);
  out.writeUInt16BE(numTables, 4);
  out.writeUInt16BE(16 << log2, 6); // searchRange
  out.writeUInt16BE(log2, 8); // entrySelector
  out.writeUInt16BE(numTables * 16 - (16 << log2), 10); // rangeShift
  let offset = 12 + 16 * numTables;
  tables.forEach((t, i) => {
    const raw = woff.subarray(t.offset, t.offset + t.compLength);
    const data = t.compLength < t.origLength ? inflateSync(raw) : raw;
    if (data.length !== t.origLength) throw new Error(`WOFF table ${i} unpacks to ${data.length} bytes, the directory says ${t.origLength}`);
    const d = 12 + 16 * i;
    out.writeUInt32BE(t.tag, d);
    out.writeUInt32BE(t.checksum, d + 4);
    out.writeUInt32BE(offset, d + 8);
    out.writeUInt32BE(t.origLength, d + 12);
    Buffer.from(data.buffer, data.byteOffset, data.byteLength).copy(out, offset);
    offset += pad4(t.origLength);
  });
  return out;
}

const require = createRequire(import.meta.url);

/** A TrueType file for the face's latin regular weight (cached under the OS temp folder). */
export function fontFile(face: FontFace): string {
  let pkgDir: string;
  try {
    pkgDir = dirname(require.resolve(`${face.pkg}/package.json`));
  } catch {
    throw new Error(`the font package ${face.pkg} is not installed; run \`npm ci\` in the inkling folder`);
  }
  const base = face.pkg.split('/')[1];
  const woffPath = join(pkgDir, 'files', `${base}-latin-400-normal.woff`);
  const cacheDir = join(tmpdir(), 'inkling-fonts');
  const ttf = join(cacheDir, `${base}-latin-400-normal.ttf`);
  if (!existsSync(ttf)) {
    mkdirSync(cacheDir, { recursive: true });
    const tmp = `${ttf}.tmp-${process.pid}`;
    writeFileSync(tmp, woffToSfnt(readFileSync(woffPath)));
    renameSync(tmp, ttf);
  }
  return ttf;
}
