# The native addons built by node-gyp (scripts/build-native.mjs runs `node-gyp rebuild`):
#   inkling_cpu    the cpu backend (native/cpu/, see its README), every OS → build/Release/inkling_cpu.node
#   inkling_metal  the Metal backend (native/metal/, see its README), macOS only → build/Release/inkling_metal.node
# The AVX-512 and AVX2+FMA kernel tables are static libraries of their own so that only those
# translation units are compiled with -mavx512f/bw/dq/vl or -mavx2 -mfma; they are linked after
# the portable objects, so any inline function several define (std::min, ...) resolves to the
# portable copy. -mprefer-vector-width=512: GCC's default tuning auto-vectorizes at 256 bits even
# with AVX-512 enabled; the plain loops (batch norm, elementwise, Adam) should use zmm too.
# The AVX-512 unit is also built against SIMD Everywhere for tests (native/cpu/simde/). The NEON table (kernels_neon.cc)
# needs no flags: Advanced SIMD is part of AArch64's base ISA (on x86-64 the file is empty).
# The image preprocessing (native/cpu/preprocess/) is a library of its own too, built with
# -ffp-contract=off: it must round exactly like the TypeScript it mirrors (no fused multiply-adds).
#
# macOS: node-gyp (make with gyp's Xcode emulation) reads compiler flags from `xcode_settings`
# and ignores `cflags_cc`, so every flag set for Linux is repeated there:
#   CLANG_CXX_LANGUAGE_STANDARD  c++17 (node's common.gypi would give gnu++17; either works)
#   GCC_ENABLE_CPP_EXCEPTIONS    YES: node's common.gypi says NO, and the addons are built with
#                                NAPI_CPP_EXCEPTIONS (C++ errors become JavaScript exceptions)
#   GCC_OPTIMIZATION_LEVEL       3 (-O3)
#   MACOSX_DEPLOYMENT_TARGET     13.0 (macOS Ventura: Metal 3, the oldest release the Metal
#                                backend's APIs are checked against; see native/metal/README.md)
#   OTHER_CPLUSPLUSFLAGS         the remaining -f flags of cflags_cc
# Xcode build-setting names: Apple's "Build settings reference" (developer.apple.com/documentation/xcode/build-settings-reference).
# test/metal/gyp-mac.test.ts generates the macOS makefiles with node-gyp's own gyp (-f make-mac)
# on Linux and checks the flags and frameworks they carry.
{
  "target_defaults": {
    "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-std=gnu++20"],
    "cflags_cc": ["-std=c++17", "-fexceptions", "-O3", "-fno-math-errno", "-ffp-contract=fast", "-fPIC"],
    "cflags!": ["-fno-exceptions"],
    "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", "native/cpu"],
    "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
    "target_conditions": [
      ["OS=='mac'", {
        "xcode_settings": {
          "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
          "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
          "GCC_OPTIMIZATION_LEVEL": "3",
          "MACOSX_DEPLOYMENT_TARGET": "13.0",
          "OTHER_CPLUSPLUSFLAGS": ["-fno-math-errno"]
        }
      }],
      # Merged after each target's own settings, so the preprocessing library's -ffp-contract=off
      # must not be followed by the kernels' =fast: it is left out there.
      ["OS=='mac' and _target_name!='inkling_cpu_preprocess'", {
        "xcode_settings": {"OTHER_CPLUSPLUSFLAGS": ["-ffp-contract=fast"]}
      }]
    ]
  },
  "targets": [
    {
      "target_name": "inkling_cpu_avx512",
      "type": "static_library",
      "sources": ["native/cpu/kernels_avx512.cc"],
      "conditions": [
        ["target_arch=='x64'", {
          "cflags_cc": ["-mavx2", "-mfma", "-mavx512f", "-mavx512bw", "-mavx512dq", "-mavx512vl", "-mprefer-vector-width=512"],
          "xcode_settings": {"OTHER_CPLUSPLUSFLAGS": ["-mavx2", "-mfma", "-mavx512f", "-mavx512bw", "-mavx512dq", "-mavx512vl", "-mprefer-vector-width=512"]}
        }]
      ]
    },
    {
      "target_name": "inkling_cpu_avx2",
      "type": "static_library",
      "sources": ["native/cpu/kernels_avx2.cc"],
      "conditions": [
        ["target_arch=='x64'", {
          "cflags_cc": ["-mavx2", "-mfma"],
          "xcode_settings": {"OTHER_CPLUSPLUSFLAGS": ["-mavx2", "-mfma"]}
        }]
      ]
    },
    {
      "target_name": "inkling_cpu_preprocess",
      "type": "static_library",
      "sources": ["native/cpu/preprocess/ink_map.cc", "native/cpu/preprocess/png_ink_map.cc"],
      "cflags_cc": ["-ffp-contract=off"],
      "xcode_settings": {"OTHER_CPLUSPLUSFLAGS": ["-ffp-contract=off"]}
    },
    {
      "target_name": "inkling_cpu",
      "dependencies": ["inkling_cpu_avx512", "inkling_cpu_avx2", "inkling_cpu_preprocess"],
      "sources": [
        "native/cpu/addon.cc",
        "native/cpu/isa.cc",
        "native/cpu/thread_pool.cc",
        "native/cpu/kernels_portable.cc",
        "native/cpu/kernels_neon.cc"
      ],
      "libraries": ["-lpthread"]
    }
  ],
  "conditions": [
    ["OS=='mac'", {
      "targets": [
        {
          # The Metal backend: Objective-C++ over Metal and MetalPerformanceShaders; the kernels
          # (native/metal/*.metal) are compiled at run time with newLibraryWithSource, so no
          # Xcode `metal` command-line tool is needed. ARC manages the Objective-C objects.
          "target_name": "inkling_metal",
          "sources": [
            "native/metal/addon/metal_device.mm",
            "native/metal/host/addon_surface.cc",
            "native/metal/host/launch.cc"
          ],
          "include_dirs": ["native/metal"],
          "xcode_settings": {
            "CLANG_ENABLE_OBJC_ARC": "YES",
            "OTHER_OBJCPLUSPLUSFLAGS": ["-fno-math-errno"]
          },
          "link_settings": {
            "libraries": [
              "-framework Metal",
              "-framework MetalPerformanceShaders",
              "-framework Foundation"
            ]
          }
        }
      ]
    }]
  ]
}
