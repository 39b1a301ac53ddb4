// The service's ink map (src/preprocess/ink.ts, inkMapFromRgba) in C++: the same steps, the same
// arithmetic (doubles where the TypeScript computes in numbers, floats where it stores into a
// Float32Array), so both give the same bits; test/preprocess/ink-native.test.ts compares them on
// every kind of image the preprocessing tests use. The TypeScript stays the reference and the
// fallback when the addon is not built.
#pragma once

#include <cstdint>

namespace inkling {

/** Working size for a width x height image: k x k block averages, long side <= kWorkMax. */
struct WorkSize {
  int k, width, height;
};
constexpr int kWorkMax = 128;
WorkSize workSize(int width, int height);

struct InkMapResult {
  int strokePixels;
  bool lightInk;
};

/** RGBA bytes (row y at offset + y*stride) -> ink (work.width*work.height floats) and the
 *  composited RGB thumbnail (3 bytes per working pixel). */
InkMapResult inkMap(const uint8_t* data, int width, int height, int64_t stride, int64_t offset, float* ink,
                    uint8_t* thumbnail);

/** Internals shared with png_ink_map.cc, which builds the working image while it decodes. */
float* workingImage(const WorkSize& ws);  // zeroed premultiplied RGBA floats, thread-local scratch
void accumulateRow(const uint8_t* rgbaRow, int y, int width, const WorkSize& ws, float* px);
void normalizeBlocks(int width, int height, const WorkSize& ws, float* px);
InkMapResult inkMapFromWorking(float* px, const WorkSize& ws, float* ink, uint8_t* thumbnail);

}  // namespace inkling
