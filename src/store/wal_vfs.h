// A SQLite VFS over the default one that gathers a connection's WAL appends into large
// writes (64 KiB), and starts the written pages on their way to the disk every MiB
// (sync_file_range, through a second read-only descriptor of the WAL file), so that the
// commit's sync waits for the tail only. SQLite writes each WAL frame as two pwrite calls (a
// 24-byte header, then the page), and a processor batch writes thousands of frames: their
// system calls cost more than the copy and the sync together (12.8 MB in 6,200 writes:
// 13 ms to write and 30 ms to sync, against 2.4 ms and 15 ms in 1 MiB writes).
//
// Safe only for connections whose every commit syncs the WAL (synchronous=FULL, as
// OpenMode::kProcessor sets), or that never append to it (a checkpoint's): a sync writes
// the gathered frames first, and SQLite publishes a commit to other connections only after
// that sync. The same connection's reads of a gathered range, a truncate, a size query and
// the close write them first too. Frames still gathered when the process dies were not
// committed: SQLite drops them at recovery as it drops any frame after the last commit.
#pragma once

namespace vigil::store {

// Registers the VFS on first use and returns its name, for sqlite3_open_v2.
const char* WalGatheringVfs();
// The same, and the database file's writes gathered too (without the hints): for a
// connection that only checkpoints (a checkpoint copies pages in page order, 4 KiB per
// write). Its gathered writes are in the file before any lock changes hands and before the
// sync that lets SQLite count the copied frames as checkpointed.
const char* CheckpointVfs();

}  // namespace vigil::store
