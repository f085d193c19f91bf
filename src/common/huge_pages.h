// Big, short-lived buffers on transparent huge pages. The first touch of a 4 KiB page is a
// page fault, ~10 us on the VMs we measure on; a 2 MiB page is one fault for 512 of them
// (~0.3 ms). A routine batch touched ~1,100 fresh 4 KiB pages for its parsed readings alone
// (BENCHMARKS.md). Only an advice: a kernel without THP, or with it off, uses 4 KiB pages.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstdlib>
#include <new>

namespace vigil {

inline constexpr size_t kHugePage = size_t{2} << 20;

// A std::allocator for vectors that may grow to megabytes. Allocations of at least a huge
// page are aligned to one and advised MADV_HUGEPAGE; smaller ones are plain operator new.
// Only touched pages count in the RSS, so reserving a bound ahead costs address space only.
template <class T>
struct HugePageAllocator {
  using value_type = T;
  HugePageAllocator() = default;
  template <class U>
  HugePageAllocator(const HugePageAllocator<U>&) {}

  T* allocate(size_t n) {
    const size_t bytes = n * sizeof(T);
    if (bytes < kHugePage) return static_cast<T*>(::operator new(bytes));
    const size_t rounded = (bytes + kHugePage - 1) / kHugePage * kHugePage;
    void* p = std::aligned_alloc(kHugePage, rounded);
    if (p == nullptr) throw std::bad_alloc();
    madvise(p, rounded, MADV_HUGEPAGE);  // advice: its failure changes nothing but speed
    return static_cast<T*>(p);
  }
  void deallocate(T* p, size_t n) {
    if (n * sizeof(T) < kHugePage) ::operator delete(p);
    else std::free(p);
  }
  template <class U>
  bool operator==(const HugePageAllocator<U>&) const { return true; }
};

}  // namespace vigil
