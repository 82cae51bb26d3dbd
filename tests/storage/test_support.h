// Shared fixtures for storage tests: a temporary directory and batch helpers.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "sluice/storage/batch_builder.h"
#include "sluice/storage/partition_log.h"
#include "sluice/storage/record_batch.h"

namespace sluice::storage::testing {

// A fresh directory under the system temp dir, removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = (std::filesystem::temp_directory_path() / ("sluice-test-" + std::to_string(rd()) + std::to_string(rd())))
                .string();
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// The bytes a read's file regions point at, read back from the segment files.
inline Bytes region_bytes(const ReadResult& r) {
  Bytes out;
  for (const FileRegion& region : r.regions) {
    size_t at = out.size();
    out.resize(at + region.size);
    auto n = region.segment->log_file().read_at(region.position, MutableByteSpan(out.data() + at, region.size));
    EXPECT_TRUE(n.has_value() && *n == region.size);
  }
  return out;
}

// A batch of `count` records whose values are "<prefix>-<i>" and keys "k<i>".
inline Bytes make_batch(int count, const std::string& prefix = "v", int64_t timestamp = 1000,
                        Compression compression = Compression::none, size_t value_size = 0) {
  BatchBuilder builder(BatchOptions{.compression = compression});
  for (int i = 0; i < count; ++i) {
    std::string key = "k" + std::to_string(i);
    std::string value = prefix + "-" + std::to_string(i);
    if (value.size() < value_size) value.resize(value_size, 'x');
    builder.add(timestamp + i, as_bytes(key), as_bytes(value));
  }
  return std::move(*builder.build());
}

}  // namespace sluice::storage::testing
