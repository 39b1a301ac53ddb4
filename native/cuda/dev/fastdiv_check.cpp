// Exhaustive-ish host check of fastdiv.h (no GPU needed; the device path is the same arithmetic
// with __umulhi). Run by test/cuda/fastdiv.test.ts:
//   g++ -O2 -std=c++17 -o fastdiv_check native/cuda/dev/fastdiv_check.cpp && ./fastdiv_check
// Divisors: 1..4100 (all conv/pool extents: kernel taps, widths, pixels per image, strides) and
// large ones; dividends: 0..2^20 densely, then a stride up to 2^31 − 1 and the values next to
// every multiple of d near the top. Prints `fastdiv: N divisions checked, 0 wrong`.
#include <cstdio>
#include <vector>

#include "../fastdiv.h"

int main() {
  std::vector<int32_t> divisors;
  for (int32_t d = 1; d <= 4100; d++) divisors.push_back(d);
  for (int32_t d : {6272, 12544, 100352, 401408, 65535, 65536, 65537, 1 << 20, (1 << 20) + 1, 1000003, 0x7fffffff}) divisors.push_back(d);
  long long checked = 0, wrong = 0;
  auto check = [&](const inkling::FastDiv& f, int32_t n) {
    checked++;
    if (f.div(n) != n / f.d) {
      if (wrong++ < 5) printf("wrong: %d / %d = %d, fastdiv says %d\n", n, f.d, n / f.d, f.div(n));
    }
  };
  for (int32_t d : divisors) {
    inkling::FastDiv f(d);
    const int32_t dense = d <= 64 ? (1 << 20) : (1 << 16);
    for (int32_t n = 0; n < dense; n++) check(f, n);
    for (int64_t n = dense; n < 0x7fffffff; n += 7919 * 1031) check(f, (int32_t)n);
    for (int64_t q = 0x7fffffff / d - 3; q <= 0x7fffffff / d; q++) {
      for (int64_t n = q * d - 1; n <= q * d + 1; n++)
        if (n >= 0 && n <= 0x7fffffff) check(f, (int32_t)n);
    }
    check(f, 0x7fffffff);
  }
  printf("fastdiv: %lld divisions checked, %lld wrong\n", checked, wrong);
  return wrong == 0 ? 0 : 1;
}
