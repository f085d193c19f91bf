#include "ingest/ingest_sink.h"

#include "common/timestamp.h"
#include "lake/line_format.h"
#include "common/logging.h"
#include "lake/segment_log.h"

namespace vigil::ingest {

IngestSink::IngestSink(const Config& config, lake::LakeWriter& writer)
    : validator_(config), writer_(writer), prefix_(config.mqtt.topic_prefix + "/") {
  line_.reserve(4096);
}

Status IngestSink::Accept(const RawMessage& m, std::optional<Rejection>* rejection) {
  if (lake::IsOutputTopic(m.topic, prefix_)) {
    if (rejection) rejection->reset();
    own_outputs_.fetch_add(1, std::memory_order_relaxed);
    return Status::Ok();
  }
  if (guard_) VIGIL_RETURN_IF_ERROR(guard_->Check());
  received_.fetch_add(1, std::memory_order_relaxed);
  Verdict v = validator_.Validate(m);
  if (auto* r = std::get_if<Rejection>(&v)) {
    if (rejection) *rejection = *r;
    return Quarantine(m, *r);
  }
  if (rejection) rejection->reset();

  const AcceptedMessage& a = std::get<AcceptedMessage>(v);
  line_.clear();
  lake::AppendRawLine(m.received_ms, m.topic, a.minified, &line_);
  char date[kDateLen];
  FormatDate(a.event_ms, date);
  Status s = writer_.AppendRaw(std::string_view(date, kDateLen), a.machine_id, a.sensor, line_);
  if (!s.ok()) {
    received_.fetch_sub(1, std::memory_order_relaxed);  // it will be received again
    write_errors_.fetch_add(1, std::memory_order_relaxed);
    return s;
  }
  accepted_.fetch_add(1, std::memory_order_relaxed);
  return Status::Ok();
}

Status IngestSink::Quarantine(const RawMessage& m, const Rejection& r) {
  line_.clear();
  std::optional<std::string_view> json;
  if (validator_.last_payload_was_json()) json = validator_.minified();
  lake::AppendQuarantineLine(m.received_ms, m.topic, r.reason, r.detail, m.payload, json, &line_);
  char date[kDateLen];
  FormatDate(m.received_ms, date);
  Status s = writer_.AppendQuarantine(std::string_view(date, kDateLen), line_);
  if (!s.ok()) {
    received_.fetch_sub(1, std::memory_order_relaxed);
    write_errors_.fetch_add(1, std::memory_order_relaxed);
    return s;
  }
  by_reason_[static_cast<int>(r.reason)].fetch_add(1, std::memory_order_relaxed);
  return Status::Ok();
}

Status IngestSink::QuarantineTorn(const lake::TornPiece& piece, int64_t now_ms) {
  std::string line;
  lake::AppendQuarantineLine(now_ms, "", Reason::kTornLine,
                       "cut from " + piece.segment + " at byte " + std::to_string(piece.offset) +
                           " by crash recovery",
                       piece.bytes, std::nullopt, &line);
  char date[kDateLen];
  FormatDate(now_ms, date);
  VIGIL_RETURN_IF_ERROR(writer_.AppendQuarantine(std::string_view(date, kDateLen), line));
  by_reason_[static_cast<int>(Reason::kTornLine)].fetch_add(1, std::memory_order_relaxed);
  return Status::Ok();
}

IngestCounts IngestSink::Counts() const {
  IngestCounts c;
  c.received = received_.load(std::memory_order_relaxed);
  c.accepted = accepted_.load(std::memory_order_relaxed);
  for (int i = 0; i < kReasonCount; ++i) {
    c.by_reason[i] = by_reason_[i].load(std::memory_order_relaxed);
    c.quarantined += c.by_reason[i];
  }
  c.write_errors = write_errors_.load(std::memory_order_relaxed);
  c.own_outputs = own_outputs_.load(std::memory_order_relaxed);
  return c;
}

Result<lake::RecoveryReport> RecoverLake(lake::LakeWriter& writer, lake::FileSystem& fs,
                                         IngestSink& sink, Clock& clock, FsyncPolicy fsync) {
  auto quarantine = [&](const lake::TornPiece& piece) {
    VIGIL_RETURN_IF_ERROR(sink.QuarantineTorn(piece, clock.NowMs()));
    return writer.SyncAll();
  };
  Result<lake::RecoveryReport> logs = lake::RecoverLogs(writer.lake_dir(), fs, fsync, quarantine);
  if (!logs) return logs.error();
  // Segments left ".open" by a crash of a vigil older than the log.
  Result<lake::RecoveryReport> open = lake::RecoverOpenSegments(writer.lake_dir(), fs, quarantine);
  if (!open) return open.error();
  lake::RecoveryReport r = *logs;
  r.segments_published += open->segments_published;
  r.segments_removed += open->segments_removed;
  r.torn_pieces += open->torn_pieces;
  if (r.logs_recovered + r.segments_published + r.segments_removed > 0) {
    GetLogger("lake")->warn(
        "crash recovery: {} log(s) split, {} segment(s) published, {} empty removed, {} torn piece(s) quarantined",
        r.logs_recovered, r.segments_published, r.segments_removed, r.torn_pieces);
  }
  return r;
}

}  // namespace vigil::ingest
