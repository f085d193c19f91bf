// Big, short-lived buffers on transparent huge pages. The first touch of a 4 KiB page is a
// page fault, ~10 us on the VMs we measure on; a 2 MiB page is one fault for 512 of them
// (~0.3 ms). A routine batch touched ~1,100 fresh 4 KiB pages for its parsed readings alone
// (BENCHMARKS.md). Only an advice: a kernel without THP, or with it off, uses 4 KiB pages.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstdint>
#include <new>

namespace vigil {

inline constexpr size_t kHugePage = size_t{2} << 20;

// bytes rounded up to whole huge pages.
inline size_t HugePagesFor(size_t bytes) { return (bytes + kHugePage - 1) / kHugePage * kHugePage; }

// HugePagesFor(bytes) of fresh memory aligned to a huge page and advised MADV_HUGEPAGE
// (only a hint: without it, 4 KiB pages); nullptr if the kernel gives none. Reserved, not
// committed (MAP_NORESERVE): only touched pages count. Freed with FreeHugePages.
inline void* AllocateHugePages(size_t bytes) {
  const size_t size = HugePagesFor(bytes);
  void* p = mmap(nullptr, size + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) return nullptr;
  char* raw = static_cast<char*>(p);
  const size_t head = (kHugePage - reinterpret_cast<uintptr_t>(raw) % kHugePage) % kHugePage;
  if (head > 0) munmap(raw, head);  // the slack either side of the aligned range
  munmap(raw + head + size, kHugePage - head);
  (void)madvise(raw + head, size, MADV_HUGEPAGE);
  return raw + head;
}
inline void FreeHugePages(void* p, size_t bytes) { munmap(p, HugePagesFor(bytes)); }

// A std::allocator for vectors that may grow to megabytes. Allocations of at least a huge
// page come from AllocateHugePages; smaller ones are plain operator new. Only touched
// pages count in the RSS, so reserving a bound ahead costs address space only.
template <class T>
struct HugePageAllocator {
  using value_type = T;
  HugePageAllocator() = default;
  template <class U>
  HugePageAllocator(const HugePageAllocator<U>&) {}

  T* allocate(size_t n) {
    const size_t bytes = n * sizeof(T);
    if (bytes < kHugePage) return static_cast<T*>(::operator new(bytes));
    void* p = AllocateHugePages(bytes);
    if (p == nullptr) throw std::bad_alloc();
    return static_cast<T*>(p);
  }
  void deallocate(T* p, size_t n) {
    if (n * sizeof(T) < kHugePage) ::operator delete(p);
    else FreeHugePages(p, n * sizeof(T));
  }
  template <class U>
  bool operator==(const HugePageAllocator<U>&) const { return true; }
};

}  // namespace vigil
