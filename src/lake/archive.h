// Moving processed raw segments to lake/archive, compacted.
//
// A batch of the processor may take many small segments of one (date, machine) partition:
// one per sensor and publish, so a short publish interval and a wide machine make
// thousands. Archiving writes them as ONE file per partition and batch,
//
//   archive/date=D/machine_id=M/<oldest segment's open ms>-<batch id>.all.jsonl
//
// (their lines in segment order; the topic in each line says the sensor), so the archive
// that reprocess, replay, DuckDB or Spark read holds a few files per (date, machine)
// whatever the publish interval. A segment of kCompactBelow (1 MiB) or more (a historian
// import's, a long publish interval's, a fast channel's) is no small file: it is moved
// under its own name, never copied, as are a partition's small segments when a batch has
// kCompactAbove or fewer of them (a rename each, as before compaction existed).
//
// Crash safety: the compacted files are written into <lake>/.staging and synced before
// the batch commits (StageArchive, once the batch is parsed, beside its apply), renamed into the
// archive after it, and the directories synced before any source goes (FinishStaged), so
// at any moment each line is in a source, in the compacted file, or both. A consumed
// source still in raw/ after a crash is removed when its batch's compacted file exists
// (FinishArchive) and it is small, and moved on its own otherwise; what a crash leaves in
// .staging is a copy only, cleared at the next run's start (ClearStaging).
//
// The sources of a compacted file are renamed into <lake>/.trash, not deleted: deleting a
// file can wait for the device (ext4 mounted with `discard` trims its blocks inside
// unlink(2), about 0.3 ms a file on our test machine: 60 ms for a batch of 200), so
// EmptyTrash deletes them later, beside the next run's batches. Only sources already in a
// synced compacted file are ever renamed there.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "lake/file_system.h"
#include "vigil/status.h"

namespace vigil::lake {

inline constexpr uint64_t kCompactBelow = 1 << 20;
// Compaction bounds a batch's files per partition whatever the number of channels (a wide
// machine publishes twenty-odd segments a batch); a handful is no burden to a reader, and
// copying them would write the lake's bytes twice (flash wear on a gateway) and make the
// batch wait for the copies (`vigil process`, +1% at 10M, 100 machines x 2 sensors:
// median 222 -> 202 ms). So a partition's small segments are compacted only above this many.
inline constexpr size_t kCompactAbove = 4;

// A batch's archive step, in two halves.
struct ArchivePlan {
  struct Compacted {
    std::vector<std::string> sources;  // small segments of one partition, in segment order
    std::string staged;                // their lines, synced, under <lake>/.staging
    int64_t oldest_ms = 0;             // the oldest source's open time, in the final name
  };
  std::vector<std::string> moves;  // moved as they are: big segments, a partition's few small ones
  std::vector<Compacted> compacted;
};
// Before the commit (nothing in raw/ changes): stages the compacted files of `segments`
// (absolute paths under <lake>/raw), named "<tag>-<n>.jsonl" (a tag unique among the
// batches whose plans are alive).
Result<ArchivePlan> StageArchive(FileSystem& fs, const std::string& lake_dir, std::vector<std::string> segments,
                                 const std::string& tag);
// After the commit of batch `batch_id`: renames the staged files into the archive, moves
// the others, trashes the compacted sources. `after_partition` (may be empty) is called
// after each move and each partition's sources: crash tests.
Status FinishStaged(FileSystem& fs, const std::string& lake_dir, const ArchivePlan& plan, int64_t batch_id,
                    const std::function<Status()>& after_partition = {});
// Removes what a crash left in <lake>/.staging: call before any batch stages.
Status ClearStaging(FileSystem& fs, const std::string& lake_dir);

// Both halves at once: archives `segments` consumed by batch `batch_id`.
// `after_partition` (may be empty) is called after each partition is done: crash tests.
Status ArchiveSegments(FileSystem& fs, const std::string& lake_dir, std::vector<std::string> segments,
                       int64_t batch_id, const std::function<Status()>& after_partition = {});

// A raw segment that batch `batch_id` consumed but that is still in raw/ (a crash during
// ArchiveSegments): removed if the batch's compacted file holds it, else moved alone.
Status FinishArchive(FileSystem& fs, const std::string& lake_dir, const std::string& segment, int64_t batch_id);

// Deletes the files in <lake>/.trash (none: Ok).
Status EmptyTrash(FileSystem& fs, const std::string& lake_dir);

// "<ms>-<batch>.all.jsonl": the batch's compacted file of a partition.
std::string CompactedFileName(int64_t oldest_ms, int64_t batch_id);

}  // namespace vigil::lake
