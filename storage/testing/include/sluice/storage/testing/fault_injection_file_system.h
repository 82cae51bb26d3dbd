// A file system for tests that simulates power loss: it wraps the POSIX file
// system and remembers, per path, how many bytes were synced. Part of the
// sluice_storage_testing library, which tests, fuzz targets and benches link and
// no production binary does.
// Thread-safety: as FileSystem (every method thread-safe); drop_unsynced has its
// own precondition.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sluice/storage/file_system.h"

namespace sluice::storage {

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
