// Hands out producer ids (InitProducerId) that are never reused, across restarts
// and crashes.
//
//   <data>/producer-ids   "version=1\nnext=<first id not yet reserved>\n"
//                         (version 0, still read: the decimal number alone)
//                         storage/FORMAT.md, "Producer ids"
//
// Ids are reserved in blocks of kBlockSize: the file is raised past a block
// (written atomically and synced) before any id in it is handed out, so a crash
// loses at most the rest of a block, never hands out an id twice.
// Thread-safety: allocate() is thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "sluice/common/error.h"
#include "sluice/common/strong_int.h"

namespace sluice::storage {
class FileSystem;
}

namespace sluice::broker {

class ProducerIdAllocator {
 public:
  static constexpr int64_t kBlockSize = 1000;

  static Result<std::unique_ptr<ProducerIdAllocator>> open(storage::FileSystem& fs, const std::string& data_dir);
  Result<ProducerId> allocate();

 private:
  ProducerIdAllocator(storage::FileSystem& fs, std::string path, ProducerId next)
      : fs_(fs), path_(std::move(path)), next_(next), reserved_end_(next) {}

  storage::FileSystem& fs_;
  const std::string path_;
  std::mutex mu_;
  ProducerId next_;          // under mu_
  ProducerId reserved_end_;  // under mu_: ids below it are on disk as reserved
};

}  // namespace sluice::broker
