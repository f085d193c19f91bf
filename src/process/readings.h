// Deduplication of readings (contract §3): copies of one (machine, sensor, ms) are one
// reading, the first received wins. The stored readings of a series live in chunks
// (store/feature_store.h); a batch merges its new copies into each chunk it touches.
// Pure, thread-compatible.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "store/feature_store.h"

namespace vigil::process {

// A chunk of stored readings spans this much time: a multiple of the window, so that a
// window's readings lie in one chunk, and about 10 minutes, so that appending to a series
// rewrites a few kilobytes.
int64_t ChunkMs(int64_t window_ms);

// True when copy a wins over copy b: received earlier or, in the same ms, the smaller
// value. Depends on nothing but the two copies, so the winner is the same in any file
// layout, area or split into batches.
bool WinsOver(const store::StoredReading& a, const store::StoredReading& b);

struct MergeCounts {
  int64_t readings = 0;    // new (machine, sensor, ms) keys
  int64_t duplicates = 0;  // copies of a key already seen (stored or earlier in fresh)
};

// Merges fresh copies (sorted by ts, then WinsOver first) into a chunk's stored readings
// (sorted by ts, one per ts). Appends to *changed the ts whose stored value is new or
// different, in order.
void MergeReadings(std::vector<store::StoredReading>* stored, const store::StoredReading* fresh, size_t n,
                   MergeCounts* counts, std::vector<int64_t>* changed);

// A window's value (contract §3): the mean of its stored readings, summed in time order.
// rs[*k...] must be sorted by ts; *k moves to the window's first reading (and stays there).
// Returns false when the window has no reading. Every window value of the store comes
// from here (a fresh one in a batch, one read back from the chunks), so both are the same
// bits.
bool WindowMean(const std::vector<store::StoredReading>& rs, size_t* k, int64_t win, int64_t window_ms, double* mean);

// Sorts data made of sorted runs (a machine's window values come sensor by sensor, a run
// each): finds the runs, then merges neighbours pairwise until one is left, O(n log runs)
// where SortMostlySorted peels one run per level and std::sort is O(n log n). Too many
// runs (no such shape) go to std::sort.
template <class T, class Less>
void SortRuns(std::vector<T>* v, Less less) {
  std::vector<size_t> bounds{0};
  for (size_t i = 1; i < v->size(); ++i) {
    if (less((*v)[i], (*v)[i - 1])) bounds.push_back(i);
  }
  if (bounds.size() == 1) return;
  if (bounds.size() > 1024) return std::sort(v->begin(), v->end(), less);
  bounds.push_back(v->size());
  while (bounds.size() > 2) {
    std::vector<size_t> next{0};
    size_t r = 0;
    for (; r + 2 < bounds.size(); r += 2) {
      std::inplace_merge(v->begin() + bounds[r], v->begin() + bounds[r + 1], v->begin() + bounds[r + 2], less);
      next.push_back(bounds[r + 2]);
    }
    if (r + 1 < bounds.size()) next.push_back(bounds.back());  // an odd run waits a round
    bounds = std::move(next);
  }
}

// Sorts data that is mostly in order already (a segment's lines are in time order but for
// its late lines): the elements that keep the order stay where they are, the others are
// sorted the same way (up to `depth` times) and merged back. O(n) per level where
// std::sort is O(n log n).
template <class Vector, class Less>
void SortMostlySorted(Vector* v, Less less, int depth = 4) {
  if (v->size() < 2) return;
  if (depth == 0) return std::sort(v->begin(), v->end(), less);
  Vector rest;
  rest.reserve(v->size());  // address space only: pages are touched as the rest fills
  size_t kept = 1;
  for (size_t i = 1; i < v->size(); ++i) {
    if (less((*v)[i], (*v)[kept - 1])) rest.push_back(std::move((*v)[i]));
    else (*v)[kept++] = std::move((*v)[i]);
  }
  if (rest.empty()) return;
  SortMostlySorted(&rest, less, depth - 1);
  // Merge from the back: kept elements in [0, kept), the rest after them.
  size_t out = v->size(), a = kept, b = rest.size();
  while (b > 0) {
    if (a > 0 && less(rest[b - 1], (*v)[a - 1])) (*v)[--out] = std::move((*v)[--a]);
    else (*v)[--out] = std::move(rest[--b]);
  }
}

}  // namespace vigil::process
