// Helpers shared by the recovery tests: a small-segment log, filling it with
// same-sized batches, reading it back, and damaging its files.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "sluice/storage/partition_log.h"

#include "test_support.h"

namespace sluice::storage::testing {

inline LogConfig config_with(Durability durability) {
  LogConfig config;
  config.segment_bytes = 4096;
  config.index_interval_bytes = 256;
  config.durability = durability;
  config.retention_ms = -1;
  return config;
}

inline std::unique_ptr<PartitionLog> open_log(FileSystem& fs, const std::string& dir, Durability d = Durability::none) {
  auto log = PartitionLog::open(fs, dir, config_with(d));
  EXPECT_TRUE(log.has_value()) << (log ? "" : log.error().to_string());
  return log ? std::move(*log) : nullptr;
}

// Appends `batches` batches of 5 records and returns each batch's base offset.
inline std::vector<Offset> fill(PartitionLog& log, int batches) {
  std::vector<Offset> bases;
  for (int i = 0; i < batches; ++i) {
    Bytes batch = make_batch(5, "v" + std::to_string(i), 1000 + i, Compression::none, 20);
    auto r = log.append(batch);
    EXPECT_TRUE(r.has_value());
    bases.push_back(r->base_offset);
  }
  return bases;
}

// Reads the whole log, checking every batch; returns the number of records.
inline int64_t read_all(const PartitionLog& log) {
  Bytes buffer;
  Offset at = log.log_start_offset();
  int64_t records = 0;
  while (at < log.log_end_offset()) {
    auto r = log.read(at, 1 << 16, buffer);
    EXPECT_TRUE(r.has_value()) << r.error().to_string();
    if (!r) return -1;
    ByteSpan rest(buffer.data(), r->bytes);
    while (!rest.empty()) {
      auto h = validate_batch(rest);
      EXPECT_TRUE(h.has_value());
      if (!h) return -1;
      if (log.config().offset_gaps == OffsetGaps::are_legal) {
        EXPECT_GE(h->base_offset, at);
      } else {
        EXPECT_EQ(h->base_offset, at);
      }
      at = h->next_offset();
      records += h->record_count;
      rest = rest.subspan(h->total_size());
    }
  }
  return records;
}

// As read_all, for a log with damaged ranges: a read at the first offset of one
// must fail with corrupt_data, and reading goes on after it.
inline int64_t read_around_holes(const PartitionLog& log) {
  Bytes buffer;
  Offset at = log.log_start_offset();
  int64_t records = 0;
  std::vector<DamagedRange> holes = log.damaged_ranges();
  while (at < log.log_end_offset()) {
    auto r = log.read(at, 1 << 16, buffer);
    if (!r) {
      EXPECT_EQ(r.error().code, Errc::corrupt_data) << r.error().to_string();
      auto hole = std::find_if(holes.begin(), holes.end(), [&](const DamagedRange& h) { return h.first == at; });
      EXPECT_NE(hole, holes.end()) << "a read at " << at.value() << " failed outside a damaged range";
      if (hole == holes.end()) return -1;
      at = hole->end;
      continue;
    }
    EXPECT_GT(r->bytes, 0u);
    if (r->bytes == 0) return -1;
    records += r->records;
    at = r->next_offset;
  }
  return records;
}

inline std::string log_path(const TempDir& dir, int64_t base) {
  return dir.sub(segment_file_name(Offset(base), ".log"));
}

inline void flip_byte(const std::string& path, uint64_t position) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(position));
  char c = 0;
  f.read(&c, 1);
  c ^= 0x5a;
  f.seekp(static_cast<std::streamoff>(position));
  f.write(&c, 1);
}

}  // namespace sluice::storage::testing
