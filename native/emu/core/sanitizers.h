// Which sanitizer this translation unit is built with, and the hooks the core needs from it:
// ASan must be told about fiber stack switches and may poison device-memory guard zones.
#pragma once
#include <cstddef>

#if defined(__SANITIZE_ADDRESS__)
#define INKLING_EMU_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define INKLING_EMU_ASAN 1
#endif
#endif

#if defined(__SANITIZE_THREAD__)
#define INKLING_EMU_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define INKLING_EMU_TSAN 1
#endif
#endif

#ifdef INKLING_EMU_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

namespace inkling::emu {

inline void asanPoison(const void* p, size_t n) {
#ifdef INKLING_EMU_ASAN
  ASAN_POISON_MEMORY_REGION(p, n);
#else
  (void)p, (void)n;
#endif
}

inline void asanUnpoison(const void* p, size_t n) {
#ifdef INKLING_EMU_ASAN
  ASAN_UNPOISON_MEMORY_REGION(p, n);
#else
  (void)p, (void)n;
#endif
}

constexpr bool kUnderSanitizer =
#if defined(INKLING_EMU_ASAN) || defined(INKLING_EMU_TSAN)
    true;
#else
    false;
#endif

}  // namespace inkling::emu
