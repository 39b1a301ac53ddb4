// PNG bytes -> ink map without the decoded image: the IDAT stream is inflated one row at a time
// (two row buffers), each row is unfiltered, expanded to RGBA and added to the working image,
// then the ink map runs as in ink_map.cc. A 280x280 canvas PNG never becomes the 313 KB RGBA
// buffer that src/preprocess/png.ts allocates (whose churn drove most of the service's garbage
// collections) and skips its JavaScript unfilter loop.
//
// Same subset and same checks as decodePngRows (png.ts): 8-bit, not interlaced, colour types
// 0/2/3/4/6, tRNS only on palettes, the inflated size exactly height x (1 + stride), a complete
// zlib stream (adler32 checked by zlib) and an IEND chunk. Anything else, valid or not, returns
// false and the caller takes the TypeScript path, which decodes it or throws the same error it
// always did; this code never decides that an image is bad.
//
// zlib: the inflate functions come from the Node binary that loads the addon (it exports zlib;
// node-gyp puts Node's zlib.h on the include path).
#include "preprocess/png_ink_map.h"

#include <zlib.h>

#include <chrono>
#include <cstring>
#include <vector>

#include "preprocess/ink_map.h"

namespace inkling {

namespace {

uint32_t be32(const uint8_t* p) { return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | p[3]; }

struct Chunks {
  uint32_t width = 0, height = 0;
  int bitDepth = 0, colorType = 0, interlace = 0;
  const uint8_t* palette = nullptr;
  size_t paletteLen = 0;
  const uint8_t* alpha = nullptr;
  size_t alphaLen = 0;
  std::vector<std::pair<const uint8_t*, size_t>> idat;
};

bool readChunks(const uint8_t* buf, size_t len, Chunks& c) {
  static const uint8_t sig[8] = {0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a};
  if (len < 33 || std::memcmp(buf, sig, 8) != 0 || std::memcmp(buf + 12, "IHDR", 4) != 0) return false;
  c.width = be32(buf + 16);
  c.height = be32(buf + 20);
  c.bitDepth = buf[24];
  c.colorType = buf[25];
  c.interlace = buf[28];
  size_t pos = 8;
  bool sawEnd = false;
  while (pos + 8 <= len) {
    const size_t n = be32(buf + pos);
    const uint8_t* type = buf + pos + 4;
    const size_t start = pos + 8;
    if (n > len || start + n + 4 > len) return false;
    const uint8_t* body = buf + start;
    if (std::memcmp(type, "IDAT", 4) == 0) {
      c.idat.emplace_back(body, n);
    } else if (std::memcmp(type, "PLTE", 4) == 0) {
      c.palette = body;
      c.paletteLen = n;
    } else if (std::memcmp(type, "tRNS", 4) == 0) {
      if (c.colorType != 3) return false;  // colour-key transparency: png.ts hands it to sharp
      c.alpha = body;
      c.alphaLen = n;
    } else if (std::memcmp(type, "IEND", 4) == 0) {
      sawEnd = true;
      break;
    }
    pos = start + n + 4;
  }
  return sawEnd && !c.idat.empty();
}

int channelsOf(int colorType) {
  switch (colorType) {
    case 0: return 1;
    case 2: return 3;
    case 3: return 1;
    case 4: return 2;
    case 6: return 4;
    default: return 0;
  }
}

/** Unfilters `row` (stride bytes, filter byte already removed) against `prev` (null: first row). */
bool unfilter(int filter, uint8_t* row, const uint8_t* prev, size_t stride, int bpp) {
  switch (filter) {
    case 0:
      return true;
    case 1:
      for (size_t i = bpp; i < stride; i++) row[i] = uint8_t(row[i] + row[i - bpp]);
      return true;
    case 2:
      if (prev)
        for (size_t i = 0; i < stride; i++) row[i] = uint8_t(row[i] + prev[i]);
      return true;
    case 3:
      for (size_t i = 0; i < stride; i++) {
        const int left = i >= size_t(bpp) ? row[i - bpp] : 0;
        const int up = prev ? prev[i] : 0;
        row[i] = uint8_t(row[i] + ((left + up) >> 1));
      }
      return true;
    case 4:
      for (size_t i = 0; i < stride; i++) {
        const int a = i >= size_t(bpp) ? row[i - bpp] : 0;
        const int b = prev ? prev[i] : 0;
        const int c = prev && i >= size_t(bpp) ? prev[i - bpp] : 0;
        const int p = a + b - c;
        const int pa = p > a ? p - a : a - p, pb = p > b ? p - b : b - p, pc = p > c ? p - c : c - p;
        const int pred = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
        row[i] = uint8_t(row[i] + pred);
      }
      return true;
    default:
      return false;
  }
}

/** Expands one unfiltered row to RGBA (decodePngRows' conversion); false on a bad palette index.
 *  RGBA rows (colour type 6) need none: the caller uses them where they are. */
bool toRgba(const Chunks& c, const uint8_t* s, uint8_t* d, uint32_t width) {
  switch (c.colorType) {
    case 2:
      for (uint32_t x = 0; x < width; x++, s += 3, d += 4) {
        d[0] = s[0];
        d[1] = s[1];
        d[2] = s[2];
        d[3] = 255;
      }
      return true;
    case 0:
      for (uint32_t x = 0; x < width; x++, s++, d += 4) {
        d[0] = d[1] = d[2] = s[0];
        d[3] = 255;
      }
      return true;
    case 4:
      for (uint32_t x = 0; x < width; x++, s += 2, d += 4) {
        d[0] = d[1] = d[2] = s[0];
        d[3] = s[1];
      }
      return true;
    case 3:
      for (uint32_t x = 0; x < width; x++, d += 4) {
        const size_t idx = s[x];
        if (idx * 3 + 2 >= c.paletteLen) return false;
        d[0] = c.palette[idx * 3];
        d[1] = c.palette[idx * 3 + 1];
        d[2] = c.palette[idx * 3 + 2];
        d[3] = c.alpha && idx < c.alphaLen ? c.alpha[idx] : 255;
      }
      return true;
    default:
      return false;
  }
}

/** One zlib inflate state per thread, reset between images: inflateInit allocates its state and
 *  a 32 KB window on every call otherwise. */
struct Inflater {
  z_stream z{};
  bool open = false;
  bool reset() {
    if (open) return inflateReset(&z) == Z_OK;
    z = z_stream{};
    open = inflateInit(&z) == Z_OK;
    return open;
  }
  ~Inflater() {
    if (open) inflateEnd(&z);
  }
};
thread_local Inflater inflater;
thread_local std::vector<uint8_t> rowScratch, rgbaScratch;

}  // namespace

bool inkMapFromPng(const uint8_t* buf, size_t len, float* ink, size_t inkLen, uint8_t* thumbnail, size_t thumbLen,
                   InkMapResult& result, double& decodeMs) {
  const auto t0 = std::chrono::steady_clock::now();
  Chunks c;
  if (!readChunks(buf, len, c)) return false;
  const int channels = channelsOf(c.colorType);
  if (channels == 0 || c.bitDepth != 8 || c.interlace != 0 || c.width == 0 || c.height == 0) return false;
  if (c.colorType == 3 && !c.palette) return false;
  if (c.width > (1u << 24) || c.height > (1u << 24)) return false;
  const WorkSize ws = workSize(int(c.width), int(c.height));
  const size_t n = size_t(ws.width) * size_t(ws.height);
  if (inkLen != n || thumbLen != n * 3) return false;

  const size_t stride = size_t(c.width) * channels;
  std::vector<uint8_t>& rows = rowScratch;
  std::vector<uint8_t>& rgba = rgbaScratch;
  if (rows.size() < 2 * (stride + 1)) rows.resize(2 * (stride + 1));
  if (rgba.size() < size_t(c.width) * 4) rgba.resize(size_t(c.width) * 4);
  uint8_t* cur = rows.data();
  uint8_t* prev = nullptr;
  Inflater& inf = inflater;
  if (!inf.reset()) return false;
  float* px = workingImage(ws);
  size_t chunk = 0;
  inf.z.next_in = const_cast<Bytef*>(c.idat[0].first);
  inf.z.avail_in = uInt(c.idat[0].second);
  int zr = Z_OK;
  for (uint32_t y = 0; y < c.height; y++) {
    inf.z.next_out = cur;
    inf.z.avail_out = uInt(stride + 1);
    while (inf.z.avail_out > 0) {
      if (inf.z.avail_in == 0) {
        if (++chunk >= c.idat.size()) return false;  // truncated image data
        inf.z.next_in = const_cast<Bytef*>(c.idat[chunk].first);
        inf.z.avail_in = uInt(c.idat[chunk].second);
        continue;
      }
      zr = inflate(&inf.z, Z_NO_FLUSH);
      if (zr == Z_STREAM_END) break;
      if (zr != Z_OK) return false;
    }
    if (inf.z.avail_out > 0) return false;  // the stream ended before the last row
    if (!unfilter(cur[0], cur + 1, prev ? prev + 1 : nullptr, stride, channels)) return false;
    // RGBA rows (a canvas export) are summed where they were unfiltered, without a copy.
    const uint8_t* rgbaRow = cur + 1;
    if (c.colorType != 6) {
      if (!toRgba(c, cur + 1, rgba.data(), c.width)) return false;
      rgbaRow = rgba.data();
    }
    accumulateRow(rgbaRow, int(y), int(c.width), ws, px);
    prev = cur;
    cur = cur == rows.data() ? rows.data() + stride + 1 : rows.data();  // the two row buffers alternate
  }
  // The stream must end exactly here (png.ts: inflated length == expected, adler32 verified).
  if (zr != Z_STREAM_END) {
    uint8_t extra;
    for (;;) {
      inf.z.next_out = &extra;
      inf.z.avail_out = 1;
      if (inf.z.avail_in == 0) {
        if (++chunk >= c.idat.size()) return false;
        inf.z.next_in = const_cast<Bytef*>(c.idat[chunk].first);
        inf.z.avail_in = uInt(c.idat[chunk].second);
      }
      zr = inflate(&inf.z, Z_NO_FLUSH);
      if (zr == Z_STREAM_END && inf.z.avail_out == 1) break;
      if (zr != Z_OK || inf.z.avail_out == 0) return false;  // error, or more pixels than expected
    }
  }
  normalizeBlocks(int(c.width), int(c.height), ws, px);
  decodeMs = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  result = inkMapFromWorking(px, ws, ink, thumbnail);
  return true;
}

}  // namespace inkling
