# TEST-ONLY build of the cpu addon whose AVX-512 table is compiled against SIMD Everywhere
# (Debian's libsimde-dev, header-only) instead of the hardware intrinsics: the same
# kernels_avx512.cc with INKLING_SIMDE=1, so that the AVX-512 code's logic (indexing, tails,
# masks, packing) runs on a CPU without AVX-512. It is emulation, not the hardware path.
# Built by scripts/build-simde-avx512.mjs into native/cpu/simde/build/Release/inkling_cpu_simde.node
# for `npm run test:avx512-simde` (a CI stage); never loaded by inkling itself.
{
  "target_defaults": {
    "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-std=gnu++20"],
    "cflags_cc": ["-std=c++17", "-fexceptions", "-O2", "-fno-math-errno", "-ffp-contract=fast", "-fPIC"],
    "cflags!": ["-fno-exceptions"],
    "include_dirs": ["<!(node -p \"require('path').dirname(require.resolve('node-addon-api'))\")", ".."],
    "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"]
  },
  "targets": [
    {
      "target_name": "inkling_cpu_avx512_simde",
      "type": "static_library",
      "sources": ["../kernels_avx512.cc"],
      "defines": ["INKLING_SIMDE=1"],
      # SIMDe runs its 512-bit operations on native AVX2 halves where it can; -Wno-psabi: SIMDe's
      # 64-byte vector arguments trip GCC's ABI-change note.
      "cflags_cc": ["-mavx2", "-mfma", "-Wno-psabi"]
    },
    {
      "target_name": "inkling_cpu_avx2",
      "type": "static_library",
      "sources": ["../kernels_avx2.cc"],
      "cflags_cc": ["-mavx2", "-mfma"]
    },
    {
      "target_name": "inkling_cpu_preprocess",
      "type": "static_library",
      "sources": ["../preprocess/ink_map.cc", "../preprocess/png_ink_map.cc"],
      "cflags_cc": ["-ffp-contract=off"]
    },
    {
      "target_name": "inkling_cpu_simde",
      "dependencies": ["inkling_cpu_avx512_simde", "inkling_cpu_avx2", "inkling_cpu_preprocess"],
      "sources": ["../addon.cc", "../isa.cc", "../thread_pool.cc", "../kernels_portable.cc", "../kernels_neon.cc"],
      "libraries": ["-lpthread"]
    }
  ]
}
