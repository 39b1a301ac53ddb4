# The cpu backend addon (native/cpu/, see its README). Built at `npm install` and by
# `npm run build:cpu` (scripts/build-native.mjs runs `node-gyp rebuild`) into
# build/Release/inkling_cpu.node.
# The AVX-512 and AVX2+FMA kernel tables are static libraries of their own so that only those
# translation units are compiled with -mavx512f/bw/dq/vl or -mavx2 -mfma; they are linked after
# the portable objects, so any inline function several define (std::min, ...) resolves to the
# portable copy. -mprefer-vector-width=512: GCC's default tuning auto-vectorizes at 256 bits even
# with AVX-512 enabled; the plain loops (batch norm, elementwise, Adam) should use zmm too.
# The AVX-512 unit is also built against SIMD Everywhere for tests (native/cpu/simde/).
# The image preprocessing (native/cpu/preprocess/) is a library of its own too, built with
# -ffp-contract=off: it must round exactly like the TypeScript it mirrors (no fused multiply-adds).
{
  "target_defaults": {
    "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-std=gnu++20"],
    "cflags_cc": ["-std=c++17", "-fexceptions", "-O3", "-fno-math-errno", "-ffp-contract=fast", "-fPIC"],
    "cflags!": ["-fno-exceptions"],
    "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", "native/cpu"],
    "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"]
  },
  "targets": [
    {
      "target_name": "inkling_cpu_avx512",
      "type": "static_library",
      "sources": ["native/cpu/kernels_avx512.cc"],
      "conditions": [
        ["target_arch=='x64'", {
          "cflags_cc": ["-mavx2", "-mfma", "-mavx512f", "-mavx512bw", "-mavx512dq", "-mavx512vl", "-mprefer-vector-width=512"]
        }]
      ]
    },
    {
      "target_name": "inkling_cpu_avx2",
      "type": "static_library",
      "sources": ["native/cpu/kernels_avx2.cc"],
      "conditions": [
        ["target_arch=='x64'", {
          "cflags_cc": ["-mavx2", "-mfma"]
        }]
      ]
    },
    {
      "target_name": "inkling_cpu_preprocess",
      "type": "static_library",
      "sources": ["native/cpu/preprocess/ink_map.cc", "native/cpu/preprocess/png_ink_map.cc"],
      "cflags_cc": ["-ffp-contract=off"]
    },
    {
      "target_name": "inkling_cpu",
      "dependencies": ["inkling_cpu_avx512", "inkling_cpu_avx2", "inkling_cpu_preprocess"],
      "sources": [
        "native/cpu/addon.cc",
        "native/cpu/isa.cc",
        "native/cpu/thread_pool.cc",
        "native/cpu/kernels_portable.cc"
      ],
      "libraries": ["-lpthread"]
    }
  ]
}
