#include "bench_common.h"

#include <signal.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string_view>
#include <system_error>

#include "sluice/storage/batch_builder.h"
#include "sluice/storage/file_system.h"

namespace sluice::bench {
namespace {

std::string g_root;  // set once by init_bench_root, before any benchmark runs
std::atomic<uint64_t> g_next_dir{0};

// Names the file systems we expect to see; the magic numbers are from statfs(2).
std::string fs_type_name(long type) {
  switch (static_cast<unsigned long>(type)) {
    case 0xEF53: return "ext2/3/4";
    case 0x58465342: return "xfs";
    case 0x9123683E: return "btrfs";
    case 0x2FC12FC1: return "zfs";
    case 0x01021994: return "tmpfs";
    case 0x858458F6: return "ramfs";
    case 0x794C7630: return "overlayfs";
    default: {
      char buf[32];
      std::snprintf(buf, sizeof(buf), "0x%lx", static_cast<unsigned long>(type));
      return buf;
    }
  }
}

constexpr std::string_view kRootPrefix = "sluice-storage-bench-";

// Removes roots left behind by runs that were killed before they could clean up:
// every `sluice-storage-bench-<pid>` whose process no longer exists.
void remove_stale_roots(const std::string& base) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(base, ec)) {
    std::string name = entry.path().filename().string();
    if (!name.starts_with(kRootPrefix)) continue;
    std::string digits = name.substr(kRootPrefix.size());
    if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos) continue;
    pid_t pid = static_cast<pid_t>(std::stol(digits));
    if (::kill(pid, 0) == 0 || errno != ESRCH) continue;  // alive (or not ours to judge)
    std::error_code remove_ec;
    std::filesystem::remove_all(entry.path(), remove_ec);
  }
}

}  // namespace

bool init_bench_root() {
  const char* env = std::getenv("SLUICE_BENCH_DIR");
  std::string base = env && *env ? env : SLUICE_BENCH_DEFAULT_DIR;
  remove_stale_roots(base);
  g_root = base + "/" + std::string(kRootPrefix) + std::to_string(::getpid());
  std::error_code ec;
  std::filesystem::create_directories(g_root, ec);
  if (ec) {
    std::fprintf(stderr, "storage_bench: cannot create %s: %s\n", g_root.c_str(), ec.message().c_str());
    return false;
  }
  struct statfs st {};
  std::string fs = "unknown";
  if (::statfs(g_root.c_str(), &st) == 0) fs = fs_type_name(st.f_type);
  if (fs == "tmpfs" || fs == "ramfs") {
    std::fprintf(stderr,
                 "storage_bench: WARNING: %s is on %s; disk figures will be memory figures. "
                 "Set SLUICE_BENCH_DIR to a directory on a real disk.\n",
                 g_root.c_str(), fs.c_str());
  }
  benchmark::AddCustomContext("bench_dir", g_root);
  benchmark::AddCustomContext("bench_fs", fs);
  return true;
}

void remove_bench_root() {
  if (g_root.empty()) return;
  std::error_code ec;
  std::filesystem::remove_all(g_root, ec);
  if (ec) std::fprintf(stderr, "storage_bench: cannot remove %s: %s\n", g_root.c_str(), ec.message().c_str());
}

std::string fresh_dir(const std::string& name) {
  std::string dir = g_root + "/" + name + "-" + std::to_string(g_next_dir.fetch_add(1));
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return dir;
}

void remove_dir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

Bytes make_batch(int records, size_t value_bytes, int64_t timestamp) {
  storage::BatchBuilder builder;
  Bytes value(value_bytes);
  for (size_t i = 0; i < value.size(); ++i) value[i] = static_cast<std::byte>('a' + i % 26);
  for (int i = 0; i < records; ++i) builder.add(timestamp + i, std::nullopt, ByteSpan(value));
  auto batch = builder.build();
  if (!batch) {
    std::fprintf(stderr, "storage_bench: cannot build a batch: %s\n", batch.error().to_string().c_str());
    std::abort();
  }
  return std::move(*batch);
}

int records_fitting(size_t max_batch_bytes, size_t value_bytes) {
  // The builder only knows a batch's size after a record is added, so count with
  // a throwaway builder.
  storage::BatchBuilder probe;
  Bytes value(value_bytes);
  int records = 0;
  while (true) {
    probe.add(records, std::nullopt, ByteSpan(value));
    if (probe.estimated_size() > max_batch_bytes) break;
    ++records;
  }
  return std::max(records, 1);
}

Bytes make_batch_up_to(size_t max_batch_bytes, size_t value_bytes, int64_t timestamp) {
  return make_batch(records_fitting(max_batch_bytes, value_bytes), value_bytes, timestamp);
}

Bytes make_batch_of_size(size_t exact_bytes, size_t value_bytes, int64_t timestamp) {
  Bytes value(exact_bytes);
  for (size_t i = 0; i < value.size(); ++i) value[i] = static_cast<std::byte>('a' + i % 26);
  // `full` records of value_bytes, then one filler record of `filler` bytes.
  auto build = [&](int full, size_t filler) {
    storage::BatchBuilder builder;
    for (int i = 0; i < full; ++i) builder.add(timestamp + i, std::nullopt, ByteSpan(value.data(), value_bytes));
    builder.add(timestamp + full, std::nullopt, ByteSpan(value.data(), filler));
    auto batch = builder.build();
    if (!batch) std::abort();
    return std::move(*batch);
  };
  // The size grows with the filler one byte at a time, except where a varint
  // length gains a byte; if that skips the target, drop a full record and retry.
  for (int full = records_fitting(exact_bytes, value_bytes); full >= 0; --full) {
    size_t lo = 0;
    size_t hi = exact_bytes;
    while (lo < hi) {  // smallest filler whose batch is >= exact_bytes
      size_t mid = lo + (hi - lo) / 2;
      if (build(full, mid).size() < exact_bytes) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    Bytes batch = build(full, lo);
    if (batch.size() == exact_bytes) return batch;
  }
  std::fprintf(stderr, "storage_bench: cannot build a batch of exactly %zu bytes\n", exact_bytes);
  std::abort();
}

Result<std::unique_ptr<storage::PartitionLog>> open_log(const std::string& dir, storage::LogConfig config) {
  return storage::PartitionLog::open(storage::posix_file_system(), dir, config);
}

Result<uint64_t> fill_log(storage::PartitionLog& log, uint64_t total_bytes, int records, size_t value_bytes,
                          int64_t first_timestamp) {
  uint64_t written = 0;
  int64_t ts = first_timestamp;
  while (written < total_bytes) {
    Bytes batch = make_batch(records, value_bytes, ts);
    auto appended = log.append(batch);
    if (!appended) return tl::unexpected(appended.error());
    ts = appended->max_timestamp + 1;
    written += batch.size();
  }
  return written;
}

void skip_with_error(benchmark::State& state, const std::string& what, const Error& error) {
  std::string message = what + ": " + error.to_string();
  state.SkipWithError(message.c_str());
}

}  // namespace sluice::bench
