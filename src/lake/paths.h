// Every file name of the lake, in one place (contract §2):
//
//   <data_dir>/lake/raw/date=YYYY-MM-DD/machine_id=<ID>/<kind>-<segment>.jsonl
//   <data_dir>/lake/archive/date=YYYY-MM-DD/machine_id=<ID>/<kind>-<segment>.jsonl
//   <data_dir>/lake/quarantine/date=YYYY-MM-DD/<segment>.jsonl
//
//   <data_dir>/lake/.wal/<log id>.log    each writer's append-only log (lake/segment_log.h)
//   <data_dir>/lake/.upload/raw/date=…/machine_id=…/<segment>.jsonl
//                                        the upload queue: while <lake>/.upload exists (the
//                                        uploader creates it when upload.bucket is set), each
//                                        raw segment is hard-linked here when it is published;
//                                        the uploader removes the link once the object is in
//                                        the bucket (src/upload/). The link keeps the bytes
//                                        when the processor archives (compacts) the segment
//                                        or retention deletes it before the upload.
//   <data_dir>/lake/.trash/<batch>-<n>.jsonl
//                                        archived sources whose lines are in a synced
//                                        compacted file: deleted by the next processor run,
//                                        beside its batches (lake/archive.h)
//   <data_dir>/lake/.staging/<tag>-<n>.jsonl
//                                        compacted files of a batch not yet committed or
//                                        not yet renamed into the archive (lake/archive.h)
//
// Lines are first appended to the writer's log; at publish time the log is split into the
// partitioned segments, each written as ".<final name>.open" in its directory (hidden from
// Hive readers: Spark and DuckDB globs on *.jsonl skip dot files) and renamed atomically. machine_id has been validated against ^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$
// before it gets here, so a path can never leave the data directory.
#pragma once

#include <string>
#include <string_view>

namespace vigil::lake {

inline constexpr std::string_view kOpenSuffix = ".open";

std::string LakeDir(const std::string& data_dir);          // <data_dir>/lake
std::string RawDir(const std::string& lake_dir);           // <lake>/raw
std::string ArchiveDir(const std::string& lake_dir);       // <lake>/archive
std::string QuarantineDir(const std::string& lake_dir);    // <lake>/quarantine
std::string WalDir(const std::string& lake_dir);           // <lake>/.wal
std::string UploadQueueDir(const std::string& lake_dir);   // <lake>/.upload
std::string TrashDir(const std::string& lake_dir);         // <lake>/.trash
std::string StagingDir(const std::string& lake_dir);       // <lake>/.staging

// "1760518800000.log"; LogIdFromName parses it back (false for any other name).
std::string LogFileName(int64_t log_id);
bool LogIdFromName(std::string_view file_name, int64_t* log_id);

// Relative to the lake dir: "raw/date=2025-10-15/machine_id=PUMP-A01".
std::string RawPartition(std::string_view date, std::string_view machine_id);
// Relative to the lake dir: "quarantine/date=2025-10-15".
std::string QuarantinePartition(std::string_view date);

// "vibration-1760518800000-000001.jsonl" (kind empty: "1760518800000-000001.jsonl").
std::string SegmentFileName(std::string_view kind, int64_t opened_ms, uint64_t counter);
// The open time (the log id) in a segment name "<kind>-<ms>-<counter>.jsonl",
// "<ms>-<counter>.jsonl" or a compacted "<ms>-<batch>.all.jsonl"; false for other names.
bool SegmentOpenedMs(std::string_view file_name, int64_t* ms);
// ".<name>.open"
std::string OpenFileName(std::string_view final_name);
// True for ".<name>.jsonl.open"; sets *final_name.
bool IsOpenFileName(std::string_view file_name, std::string* final_name);

// ^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$: safe as one path component, never "." or "..". The
// rule for machine ids (ingest validates them with it) and for sensor names (config).
bool IsValidMachineId(std::string_view id);

}  // namespace vigil::lake
