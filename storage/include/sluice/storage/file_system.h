// The one seam through which storage touches files, after LevelDB's Env: a POSIX
// implementation, and a fault-injecting one that can drop every byte not yet synced
// to simulate power loss.
// Thread-safety: File::read_at may run concurrently with one appender; every other
// File call comes from the single writer. FileSystem methods are thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sluice/common/bytes.h"
#include "sluice/common/error.h"

namespace sluice::storage {

class File {
 public:
  virtual ~File() = default;
  // Appends at the end of the file.
  virtual Status append(ByteSpan data) = 0;
  // Reads up to out.size() bytes at `position`; returns the count (short at end of file).
  virtual Result<size_t> read_at(uint64_t position, MutableByteSpan out) const = 0;
  // fdatasync: after it returns, every byte appended before the call survives power loss.
  virtual Status sync() = 0;
  virtual Status truncate(uint64_t size) = 0;
  virtual uint64_t size() const = 0;
  virtual const std::string& path() const = 0;
  // The OS file descriptor, for zero-copy sends (sendfile); -1 if there is none.
  virtual int native_handle() const { return -1; }
  // Gives back the blocks a growing file reserved past its end (see PosixFile in
  // file_system.cc), once it will grow no more. Best effort; data is untouched.
  virtual void release_reserve() {}
};

enum class OpenMode { create_or_open, must_exist };

class FileSystem {
 public:
  virtual ~FileSystem() = default;
  virtual Result<std::unique_ptr<File>> open(const std::string& path, OpenMode mode) = 0;
  virtual Result<std::vector<std::string>> list_dir(const std::string& dir) = 0;
  virtual bool exists(const std::string& path) = 0;
  virtual Status create_dirs(const std::string& dir) = 0;
  virtual Status remove(const std::string& path) = 0;
  virtual Status remove_all(const std::string& dir) = 0;
  virtual Status rename(const std::string& from, const std::string& to) = 0;
  virtual Status sync_dir(const std::string& dir) = 0;

  // Reads a whole small file (checkpoints, indexes).
  Result<Bytes> read_file(const std::string& path);
  // Crash-safe replace: write `path.tmp`, sync, rename over `path`, sync the directory.
  Status write_file_atomic(const std::string& path, ByteSpan data);
};

// The real file system. Use the shared instance; it holds no state.
FileSystem& posix_file_system();

// Wraps the POSIX file system and remembers, per path, how many bytes were synced.
// drop_unsynced() truncates every file it opened to that size: what a power cut
// leaves behind when the kernel wrote back nothing after the last fdatasync.
class FaultInjectionFileSystem final : public FileSystem {
 public:
  FaultInjectionFileSystem();
  ~FaultInjectionFileSystem() override;

  Result<std::unique_ptr<File>> open(const std::string& path, OpenMode mode) override;
  Result<std::vector<std::string>> list_dir(const std::string& dir) override;
  bool exists(const std::string& path) override;
  Status create_dirs(const std::string& dir) override;
  Status remove(const std::string& path) override;
  Status remove_all(const std::string& dir) override;
  Status rename(const std::string& from, const std::string& to) override;
  Status sync_dir(const std::string& dir) override;

  // REQUIRES: every File opened through this object has been destroyed (the
  // process "died"); otherwise their cached sizes go stale.
  Status drop_unsynced();
  uint64_t sync_count() const;
  // Runs after every successful fdatasync and before the sync is recorded, on the
  // syncing thread, so a test can hold a sync "in flight" while it does other
  // operations. The synced size of a file only grows; a sync that overlapped a
  // truncate, remove or rename of its path records nothing.
  void set_after_sync(std::function<void(const std::string& path)> hook);

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace sluice::storage
