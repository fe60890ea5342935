// tests/count_allocations.hpp — counts every heap allocation of the process. Including this header
// replaces malloc, calloc, realloc, free, memalign, aligned_alloc and posix_memalign with versions
// that count and forward to glibc's own, so operator new, Eigen's aligned_malloc and OpenMP's
// runtime are all counted. Include it in exactly one translation unit of an executable (it defines
// those functions), and only on glibc.
#pragma once

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
// The C library's declarations of the functions replaced here come before their definitions
// below: clang rejects a system header's later redeclaration without noexcept (mm_malloc.h, reached
// through <random>) when the first declaration it sees is this file's noexcept definition.
#include <cstdlib>
#include <random>

extern "C" {
void* __libc_malloc(std::size_t size);
void* __libc_calloc(std::size_t count, std::size_t size);
void* __libc_realloc(void* ptr, std::size_t size);
void* __libc_memalign(std::size_t alignment, std::size_t size);
void __libc_free(void* ptr);
}

namespace count_allocations {

inline std::atomic<std::uint64_t> count{0};
inline std::atomic<std::uint64_t> bytes{0};

inline void record(std::size_t size) {
  count.fetch_add(1, std::memory_order_relaxed);
  bytes.fetch_add(size, std::memory_order_relaxed);
}

}  // namespace count_allocations

extern "C" {
void* malloc(std::size_t size) noexcept {
  count_allocations::record(size);
  return __libc_malloc(size);
}
void* calloc(std::size_t count, std::size_t size) noexcept {
  count_allocations::record(count * size);
  return __libc_calloc(count, size);
}
void* realloc(void* ptr, std::size_t size) noexcept {
  count_allocations::record(size);
  return __libc_realloc(ptr, size);
}
void free(void* ptr) noexcept { __libc_free(ptr); }
void* memalign(std::size_t alignment, std::size_t size) noexcept {
  count_allocations::record(size);
  return __libc_memalign(alignment, size);
}
void* aligned_alloc(std::size_t alignment, std::size_t size) noexcept {
  count_allocations::record(size);
  return __libc_memalign(alignment, size);
}
int posix_memalign(void** out, std::size_t alignment, std::size_t size) noexcept {
  if (alignment < sizeof(void*) || (alignment & (alignment - 1)) != 0) return EINVAL;
  count_allocations::record(size);
  void* p = __libc_memalign(alignment, size);
  if (p == nullptr) return ENOMEM;
  *out = p;
  return 0;
}
}
