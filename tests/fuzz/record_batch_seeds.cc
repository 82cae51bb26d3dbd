// Writes the seed corpus for record_batch_fuzz: a few small valid batches
// (plain, zstd, control, transactional, empty, offsets near INT64_MAX) built with
// BatchBuilder.
// Usage: record_batch_seeds <dir>   (the committed seeds are in tests/fuzz/corpus/record_batch/)

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>

#include "sluice/storage/batch_builder.h"

using namespace sluice;
using namespace sluice::storage;

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
  if (!ok) {
    std::fprintf(stderr, "cannot write seeds to %s\n", dir.c_str());
    return 1;
  }
  return 0;
}
