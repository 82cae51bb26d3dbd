// The one seam through which storage touches files, after LevelDB's Env: a POSIX
// implementation here, and for tests a fault-injecting one that can drop every byte
// not yet synced to simulate power loss (sluice/storage/testing/, library
// sluice_storage_testing, which no production binary links).
// Thread-safety: File::read_at may run concurrently with one appender; every other
// File call comes from the single writer. FileSystem methods are thread-safe.
#pragma once

#include <cstdint>
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

}  // namespace sluice::storage
