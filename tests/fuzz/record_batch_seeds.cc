// Writes the seed corpus for record_batch_fuzz: a few small valid batches
// (plain, zstd, control, transactional, empty, offsets near INT64_MAX) built with
// BatchBuilder, and batches the produce path refuses (unsupported codec, garbage
// zstd payload, record counts that disagree with the offset delta).
// Usage: record_batch_seeds <dir>   (the committed seeds are in tests/fuzz/corpus/record_batch/)

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>

#include "sluice/storage/batch_builder.h"

using namespace sluice;
using namespace sluice::storage;
namespace bf = sluice::storage::batch_format;

namespace {

bool write(const std::string& dir, const std::string& name, const Bytes& bytes) {
  std::ofstream out(dir + "/" + name, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  return static_cast<bool>(out);
}

Bytes sample(BatchOptions options, int records) {
  BatchBuilder builder(options);
  HeaderView headers[] = {{"trace", as_bytes("t-1")}, {"null", std::nullopt}};
  for (int i = 0; i < records; ++i) {
    std::string key = "key-" + std::to_string(i);
    std::string value = "value-" + std::to_string(i) + std::string(static_cast<size_t>(i) * 8, 'x');
    if (i % 3 == 2) {
      builder.add(1'700'000'000'000 + i, std::nullopt, as_bytes(value));  // null key
    } else if (i % 3 == 1) {
      builder.add(1'700'000'000'000 - i, as_bytes(key), std::nullopt, headers);  // tombstone with headers
    } else {
      builder.add(1'700'000'000'000 + i, as_bytes(key), as_bytes(value));
    }
  }
  return std::move(*builder.build());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <output-dir>\n", argv[0]);
    return 2;
  }
  std::string dir = argv[1];
  bool ok = true;
  ok &= write(dir, "plain", sample({}, 5));
  ok &= write(dir, "zstd", sample({.compression = Compression::zstd}, 12));
  ok &= write(dir, "transactional",
              sample({.producer_id = 9,
                      .producer_epoch = 2,
                      .base_sequence = 40,
                      .transactional = true,
                      .partition_leader_epoch = 3},
                     2));
  ok &= write(dir, "empty", BatchBuilder().build().value());
  ok &= write(dir, "control_commit", make_control_batch(ControlType::commit, 9, 2, 5, 1'700'000'000'100));
  ok &= write(dir, "control_abort", make_control_batch(ControlType::abort, 9, 2, 5, 1'700'000'000'100));
  Bytes two = sample({}, 2);
  Bytes zstd = sample({.compression = Compression::zstd}, 3);
  two.insert(two.end(), zstd.begin(), zstd.end());
  ok &= write(dir, "two_batches", two);
  // Offsets and timestamps a few steps below INT64_MAX: small mutations overflow them.
  BatchBuilder edge;
  for (int i = 0; i < 3; ++i) edge.add(INT64_MAX - 5 + i, as_bytes("k"), as_bytes("v"));
  Bytes extreme = std::move(*edge.build());
  stamp_base_offset(extreme, Offset(INT64_MAX - 3));
  ok &= write(dir, "extreme_offsets", extreme);
  // Batches the produce path refuses (issue 14), sealed so they reach its checks.
  auto edited = [](Bytes batch, int16_t attributes, int32_t last_offset_delta, int32_t record_count) {
    store_be<int16_t>(batch.data() + bf::kAttributes, attributes);
    store_be<int32_t>(batch.data() + bf::kLastOffsetDelta, last_offset_delta);
    store_be<int32_t>(batch.data() + bf::kRecordCount, record_count);
    seal_crc(batch);
    return batch;
  };
  const auto zstd_codec = static_cast<int16_t>(Compression::zstd);
  ok &= write(dir, "gzip_flagged", edited(sample({}, 3), static_cast<int16_t>(Compression::gzip), 2, 3));
  Bytes garbage = sample({.compression = Compression::zstd}, 3);
  std::fill(garbage.begin() + bf::kRecords, garbage.end(), std::byte{0x5A});
  ok &= write(dir, "zstd_garbage_payload", edited(garbage, zstd_codec, 2, 3));
  ok &= write(dir, "zstd_huge_last_offset_delta", edited(zstd, zstd_codec, INT32_MAX, 3));
  ok &= write(dir, "zstd_fewer_records_than_declared", edited(zstd, zstd_codec, 3, 4));
  ok &= write(dir, "offset_delta_gap", edited(sample({}, 3), 0, 5, 3));
  if (!ok) {
    std::fprintf(stderr, "cannot write seeds to %s\n", dir.c_str());
    return 1;
  }
  return 0;
}
