// Folder src/ingest/: from a message (MQTT or a CSV row) to a lake line: validation, CSV
// import, the MQTT subscriber, start-up recovery. Calls common and lake.
//
// IngestSink: validates one message and writes it to the lake or the quarantine.
//
// Accept() returning OK means the line is written (and synced if lake.fsync = always):
// only then may the MQTT layer acknowledge the message. On error nothing was written and
// the message must not be acknowledged; calling Accept() again with it is safe.
//
// Thread-safety: Accept() from one thread at a time (the MQTT callback thread); counters
// may be read from any thread.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <optional>
#include <string>

#include "ingest/validator.h"
#include "lake/disk_guard.h"
#include "lake/jsonl_writer.h"
#include "lake/recovery.h"
#include "vigil/clock.h"
#include "vigil/config.h"
#include "vigil/message.h"

namespace vigil::ingest {

struct IngestCounts {
  uint64_t received = 0;
  uint64_t accepted = 0;
  uint64_t quarantined = 0;
  std::array<uint64_t, kReasonCount> by_reason{};
  uint64_t write_errors = 0;
  // vigil's own predictions and alerts received back through <prefix>/# (lake::IsOutputTopic):
  // acknowledged, neither written nor counted in received.
  uint64_t own_outputs = 0;
};

class IngestSink {
 public:
  IngestSink(const Config& config, lake::LakeWriter& writer);

  // *rejection (if given) receives the reason when the message went to the quarantine.
  // vigil's own outputs (lake::IsOutputTopic) are only counted (own_outputs): OK, nothing
  // written, no rejection.
  Status Accept(const RawMessage& m, std::optional<Rejection>* rejection = nullptr);
  // Quarantines a piece of a segment cut off by crash recovery (reason torn_line).
  Status QuarantineTorn(const lake::TornPiece& piece, int64_t now_ms);

  IngestCounts Counts() const;

  // While the guard reports a low disk, Accept() fails with kUnavailable before touching
  // the message (it is neither counted nor written), so the caller holds it unacknowledged.
  void set_disk_guard(const lake::DiskGuard* guard) { guard_ = guard; }

 private:
  Status Quarantine(const RawMessage& m, const Rejection& r);

  Validator validator_;
  lake::LakeWriter& writer_;
  const lake::DiskGuard* guard_ = nullptr;
  std::string line_;  // reused line buffer

  std::atomic<uint64_t> received_{0};
  std::atomic<uint64_t> accepted_{0};
  std::array<std::atomic<uint64_t>, kReasonCount> by_reason_{};
  std::atomic<uint64_t> write_errors_{0};
  std::atomic<uint64_t> own_outputs_{0};
  const std::string prefix_;  // "<topic_prefix>/"
};

// Start-up crash recovery of the lake, before `writer` takes its first message: the logs
// and open segments that crashed writers left are published, every torn piece quarantined
// through `sink` (and synced) before its source is removed. Logs of live writers (an
// import beside the daemon) are left alone.
Result<lake::RecoveryReport> RecoverLake(lake::LakeWriter& writer, lake::FileSystem& fs,
                                         IngestSink& sink, Clock& clock, FsyncPolicy fsync);

}  // namespace vigil::ingest
