// PNG bytes straight to the ink map (see png_ink_map.cc): the canvas exports the service receives
// are decoded row by row into the working image, never into a full RGBA buffer.
#pragma once

#include <cstddef>
#include <cstdint>

#include "preprocess/ink_map.h"

namespace inkling {

/** True and the ink map in `ink`/`thumbnail` (sized for workSize(width, height)) when the PNG is in
 *  the subset png.ts decodes itself and decodes cleanly; false for anything else (the caller then
 *  takes the TypeScript path). decodeMs: inflating and building the working image. */
bool inkMapFromPng(const uint8_t* png, size_t length, float* ink, size_t inkLength, uint8_t* thumbnail,
                   size_t thumbnailLength, InkMapResult& result, double& decodeMs);

}  // namespace inkling
