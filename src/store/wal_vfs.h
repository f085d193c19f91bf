// A SQLite VFS over the default one that gathers a connection's WAL appends into large
// writes (64 KiB), and starts the written pages on their way to the disk every MiB
// (sync_file_range, through a second read-only descriptor of the WAL file), so that the
// commit's sync waits for the tail only. SQLite writes each WAL frame as two pwrite calls (a
// 24-byte header, then the page), and a processor batch writes thousands of frames: their
// system calls cost more than the copy and the sync together (12.8 MB in 6,200 writes:
// 13 ms to write and 30 ms to sync, against 2.4 ms and 15 ms in 1 MiB writes).
//
// A commit's frames are in the file before SQLite publishes the commit to other connections:
// the write of a commit frame (its header says so) writes the gathered frames, and so does a
// sync. The processor's connection commits without a sync (synchronous=NORMAL, store/db.h);
// a checkpoint's never appends. The same connection's reads of a gathered range, a truncate,
// a size query and the close write them first too. Frames still gathered when the process
// dies were not committed: SQLite drops them at recovery as it drops any frame after the
// last commit. One write may follow the commit frame: when a transaction wrote a page twice,
// SQLite rewrites the checksums of its frames' headers from there on, the commit frame's
// last, after that frame. Readers never look at them (they find pages by the WAL index), but
// recovery does: kFlushGathered writes them, before anything counts on the commit.
#pragma once

namespace vigil::store {

// A file control (sqlite3_file's xFileControl) that writes a gathered file's pending writes.
constexpr int kFlushGathered = 0x56494700;

// Registers the VFS on first use and returns its name, for sqlite3_open_v2.
const char* WalGatheringVfs();
// The same, and the database file's writes gathered too (without the hints): for a
// connection that only checkpoints (a checkpoint copies pages in page order, 4 KiB per
// write). Its gathered writes are in the file before any lock changes hands and before the
// sync that lets SQLite count the copied frames as checkpointed.
const char* CheckpointVfs();

}  // namespace vigil::store
