// Memory-safety harness for native/cpu/preprocess/png_ink_map.cc, built by
// test/preprocess/png-fuzz.test.ts with AddressSanitizer and UBSan: reads length-prefixed PNGs
// (mutations of valid ones) from the file in argv[1] and runs each through inkMapFromPng the way
// the service does (output arrays sized from the header's working size, pixel limit applied
// first). Any out-of-bounds access or undefined behaviour aborts; otherwise it prints the counts.
#include <cstdio>
#include <cstring>
#include <vector>

#include "preprocess/png_ink_map.h"

static uint32_t be32(const uint8_t* p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | p[3];
}

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  FILE* f = std::fopen(argv[1], "rb");
  if (!f) return 2;
  std::vector<uint8_t> all;
  uint8_t buf[65536];
  size_t r;
  while ((r = std::fread(buf, 1, sizeof buf, f)) > 0) all.insert(all.end(), buf, buf + r);
  std::fclose(f);
  size_t pos = 0;
  int ok = 0, declined = 0, skipped = 0;
  while (pos + 4 <= all.size()) {
    uint32_t len;
    std::memcpy(&len, &all[pos], 4);
    pos += 4;
    if (pos + len > all.size()) return 3;
    // An exact-size copy, so reading one byte past the PNG is caught.
    std::vector<uint8_t> png(all.begin() + pos, all.begin() + pos + len);
    pos += len;
    if (len < 24) {
      skipped++;
      continue;
    }
    const uint64_t w = be32(&png[16]), h = be32(&png[20]);
    if (w == 0 || h == 0 || w * h > 1000000) {  // the service's FAST_PNG_MAX_PIXELS gate
      skipped++;
      continue;
    }
    const inkling::WorkSize ws = inkling::workSize(int(w), int(h));
    const size_t n = size_t(ws.width) * ws.height;
    std::vector<float> ink(n);
    std::vector<uint8_t> thumb(n * 3);
    inkling::InkMapResult res;
    double decodeMs;
    if (inkling::inkMapFromPng(png.data(), png.size(), ink.data(), n, thumb.data(), n * 3, res, decodeMs))
      ok++;
    else
      declined++;
  }
  std::printf("ok %d declined %d skipped %d\n", ok, declined, skipped);
  return 0;
}
