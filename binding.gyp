# The cpu backend addon (native/cpu/, see its README). Built at `npm install` and by
# `npm run build:cpu` (scripts/build-native.mjs runs `node-gyp rebuild`) into
# build/Release/inkling_cpu.node.
# The AVX2+FMA kernel table is its own static library so that only that translation unit is
# compiled with -mavx2 -mfma; it is linked after the portable objects, so any inline function
# both define (std::min, ...) resolves to the portable copy.
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
      "dependencies": ["inkling_cpu_avx2", "inkling_cpu_preprocess"],
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
