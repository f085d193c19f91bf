// Deduplication of readings (contract §3): copies of one (machine, sensor, ms) are one
// reading, the first received wins. The stored readings of a series live in chunks
// (store/feature_store.h); a batch merges its new copies into each chunk it touches.
// Pure, thread-compatible.
#pragma once

#include <cstddef>
#include <cstdint>
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

}  // namespace vigil::process
