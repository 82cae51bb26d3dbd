// sluice-demo-log: writes a small demo partition log with storage::PartitionLog,
// for the README quick start until the broker exists. The content is the same on
// every run (fixed timestamps): about 300 page-view records with keys and
// headers in 25 batches, some zstd-compressed, some from an idempotent producer,
// one transaction with its commit marker, one tombstone and one binary value,
// rolled into several segments by a small segment size. The log is closed
// cleanly, so it has indexes and a clean-shutdown marker.
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "sluice/storage/batch_builder.h"
#include "sluice/storage/partition_log.h"

#include "main_guard.h"

namespace {
using namespace sluice;
using namespace sluice::storage;

constexpr int64_t kStartMs = 1'700'000'000'000;  // 2023-11-14T22:13:20Z
constexpr int kBatches = 24;

Status append(PartitionLog& log, Result<Bytes> batch, int& batches) {
  if (!batch) return tl::unexpected(batch.error());
  auto appended = log.append(*batch);
  if (!appended) return tl::unexpected(appended.error());
  ++batches;
  return {};
}

Status write_demo(PartitionLog& log, int& batches) {
  const std::string pages[] = {"/", "/products", "/products/42", "/cart", "/checkout"};
  int64_t producer_sequence = 0;
  int64_t ts = kStartMs;
  int n = 0;
  for (int b = 0; b < kBatches; ++b) {
    BatchOptions options;
    if (b % 3 == 2) options.compression = Compression::zstd;
    bool idempotent = b % 4 == 1;
    if (idempotent) {
      options.producer_id = 4000;
      options.producer_epoch = 0;
      options.base_sequence = static_cast<int32_t>(producer_sequence);
    }
    BatchBuilder builder(options);
    int count = 8 + (b * 5) % 11;
    for (int i = 0; i < count; ++i, ++n, ts += 250) {
      std::string key = "user-" + std::to_string(n % 17);
      std::string value = R"({"event":"page_view","page":")" + pages[n % 5] + R"(","seq":)" + std::to_string(n) + "}";
      std::string trace = "trace-" + std::to_string(100000 + n * 7);
      HeaderView headers[] = {{"trace-id", as_bytes(trace)}, {"source", as_bytes(std::string_view("demo"))}};
      builder.add(ts, as_bytes(key), as_bytes(value), headers);
    }
    if (idempotent) producer_sequence += count;
    if (auto s = append(log, builder.build(), batches); !s) return s;
  }
  // A tombstone (null value) and a record with a binary value.
  BatchBuilder odd;
  odd.add(ts, as_bytes(std::string_view("user-3")), std::nullopt);
  const std::byte binary[] = {std::byte{0x00}, std::byte{0x01}, std::byte{0xfe}, std::byte{0xff}};
  odd.add(ts + 1, as_bytes(std::string_view("sensor-7")), ByteSpan(binary));
  if (auto s = append(log, odd.build(), batches); !s) return s;
  // A transaction of one batch, then its commit marker.
  BatchBuilder txn(BatchOptions{.producer_id = 5000, .producer_epoch = 2, .base_sequence = 0, .transactional = true});
  for (int i = 0; i < 3; ++i) {
    std::string order = "order-" + std::to_string(900 + i);
    txn.add(ts + 10 + i, as_bytes(order), as_bytes(std::string_view(R"({"status":"paid"})")));
  }
  if (auto s = append(log, txn.build(), batches); !s) return s;
  Bytes marker = make_control_batch(ControlType::commit, 5000, 2, 0, ts + 20);
  return append(log, std::move(marker), batches);
}

}  // namespace

namespace {
int run(int argc, char** argv) {
  std::string dir;
  uint64_t segment_bytes = 4096;
  CLI::App app{"Writes a small demo partition log into DIR (which must be new or empty).", "sluice-demo-log"};
  app.add_option("dir", dir, "Directory to write the partition log into")->required()->type_name("DIR");
  app.add_option("--segment-bytes", segment_bytes, "Roll to a new segment past this size")
      ->capture_default_str()
      ->check(CLI::Range(uint64_t{1024}, uint64_t{1} << 30));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  std::error_code ec;
  if (std::filesystem::exists(dir, ec) && !std::filesystem::is_empty(dir, ec)) {
    std::cerr << "sluice-demo-log: " << dir << " is not empty; refusing to add to an existing log\n";
    return 2;
  }
  LogConfig config;
  config.segment_bytes = segment_bytes;
  config.index_interval_bytes = 512;
  config.durability = Durability::none;  // close() syncs everything once
  auto log = PartitionLog::open(posix_file_system(), dir, config);
  if (!log) {
    std::cerr << "sluice-demo-log: " << log.error().to_string() << '\n';
    return 2;
  }
  int batches = 0;
  Status status = write_demo(**log, batches);
  if (status) status = (*log)->close();
  if (!status) {
    std::cerr << "sluice-demo-log: " << status.error().to_string() << '\n';
    return 2;
  }
  std::cout << "wrote " << (*log)->log_end_offset().value() << " records in " << batches << " batches ("
            << (*log)->segment_count() << " segments) to " << dir << '\n';
  return 0;
}
}  // namespace

int main(int argc, char** argv) {
  return sluice::tools::run_guarded("sluice-demo-log", [&] { return run(argc, argv); });
}
