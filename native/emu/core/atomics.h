// Device atomics for every language layer, on std::atomic_ref (C++20): a read-modify-write is
// atomic in OS-thread mode (and ThreadSanitizer sees it as such) and trivially so with fibers.
// Each returns the old value, as CUDA's atomicAdd and MSL's atomic_fetch_add_explicit do.
#pragma once
#include <atomic>
#include <type_traits>

namespace inkling::emu {

template <class T>
T atomicFetchAdd(T* p, T v) {
  return std::atomic_ref<T>(*p).fetch_add(v, std::memory_order_relaxed);
}
template <class T>
T atomicFetchSub(T* p, T v) {
  return std::atomic_ref<T>(*p).fetch_sub(v, std::memory_order_relaxed);
}
template <class T>
T atomicExchange(T* p, T v) {
  return std::atomic_ref<T>(*p).exchange(v, std::memory_order_relaxed);
}
/** Stores `desired` if *p == expected; returns the old value either way. */
template <class T>
T atomicCompareExchange(T* p, T expected, T desired) {
  std::atomic_ref<T>(*p).compare_exchange_strong(expected, desired, std::memory_order_relaxed);
  return expected;
}
template <class T>
T atomicFetchMin(T* p, T v) {
  std::atomic_ref<T> a(*p);
  T old = a.load(std::memory_order_relaxed);
  while (v < old && !a.compare_exchange_weak(old, v, std::memory_order_relaxed)) {
  }
  return old;
}
template <class T>
T atomicFetchMax(T* p, T v) {
  std::atomic_ref<T> a(*p);
  T old = a.load(std::memory_order_relaxed);
  while (old < v && !a.compare_exchange_weak(old, v, std::memory_order_relaxed)) {
  }
  return old;
}
template <class T>
T atomicFetchAnd(T* p, T v) {
  static_assert(std::is_integral_v<T>);
  return std::atomic_ref<T>(*p).fetch_and(v, std::memory_order_relaxed);
}
template <class T>
T atomicFetchOr(T* p, T v) {
  static_assert(std::is_integral_v<T>);
  return std::atomic_ref<T>(*p).fetch_or(v, std::memory_order_relaxed);
}
template <class T>
T atomicFetchXor(T* p, T v) {
  static_assert(std::is_integral_v<T>);
  return std::atomic_ref<T>(*p).fetch_xor(v, std::memory_order_relaxed);
}

}  // namespace inkling::emu
