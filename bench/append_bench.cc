// Append throughput of PartitionLog with durability none (page-cache speed) and
// fsync (group commit), 64 KiB batches of 1 KiB records.
//
// Every batch is built once, outside the timing loop: append() validates the CRC
// and rewrites only the base offset in place (not covered by the CRC), so the
// same buffer can be appended again and again. Each thread has its own buffer,
// since append() writes into it.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "sluice/storage/file_system.h"
#include "sluice/storage/partition_log.h"

#include "bench_common.h"

namespace sluice::bench {
namespace {

constexpr size_t kBatchBytes = 64 * kKiB;  // the batch stays at or under this
constexpr size_t kRecordBytes = 1 * kKiB;
// BM_AppendNone writes the same volume as disk_limit.sh's buffered dd (2 GiB), so
// both stay under the kernel's dirty-page thresholds in the same way.
constexpr int64_t kAppendNoneIterations = static_cast<int64_t>((2048 * kMiB) / kBatchBytes);

int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

storage::LogConfig append_config(storage::Durability durability) {
  storage::LogConfig config;
  config.durability = durability;
  config.segment_bytes = 1ull << 30;
  return config;
}

// The benchmark batch: 1 KiB records, as many as fit in 64 KiB (65,140 bytes, so
// consecutive appends start at file positions that are not page-aligned). With
// `aligned`, the record size is tuned so the batch is exactly 64 KiB and every
// write covers whole pages: a diagnostic for how much the unaligned layout costs
// in the page cache (the filler record makes it 63 x 1 KiB + one ~350-byte record).
Bytes append_batch(bool aligned) {
  return aligned ? make_batch_of_size(kBatchBytes, kRecordBytes, now_ms())
                 : make_batch_up_to(kBatchBytes, kRecordBytes, now_ms());
}

void BM_AppendNone(benchmark::State& state, bool aligned) {
  const std::string dir = fresh_dir("append-none");
  auto opened = open_log(dir, append_config(storage::Durability::none));
  if (!opened) {
    skip_with_error(state, "open " + dir, opened.error());
    return;
  }
  std::unique_ptr<storage::PartitionLog> log = std::move(*opened);
  Bytes batch = append_batch(aligned);
  bool failed = false;
  for (auto _ : state) {
    if (failed) continue;
    auto appended = log->append(batch);
    if (!appended) {
      skip_with_error(state, "append", appended.error());
      failed = true;
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * batch.size()));
  state.counters["batch_bytes"] = static_cast<double>(batch.size());
  state.counters["segments"] = static_cast<double>(log->segment_count());
  // No close(): with durability none it would fdatasync the whole log. Removing
  // the files drops their dirty pages, so the next run starts from a clean cache.
  log.reset();
  remove_dir(dir);
}
BENCHMARK_CAPTURE(BM_AppendNone, batch, false)
    ->Iterations(kAppendNoneIterations)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_AppendNone, aligned64k, true)
    ->Iterations(kAppendNoneIterations)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// The ceiling for BM_AppendNone measured in the same process and conditions: the
// same buffer appended with a bare pwrite(2) loop (storage::File::append on the
// POSIX file system), same volume, no validation, offsets or indexes.
void BM_PwriteBaseline(benchmark::State& state, bool aligned) {
  const std::string dir = fresh_dir("pwrite-baseline");
  storage::FileSystem& fs = storage::posix_file_system();
  if (auto s = fs.create_dirs(dir); !s) {
    skip_with_error(state, "create " + dir, s.error());
    return;
  }
  auto file = fs.open(dir + "/data", storage::OpenMode::create_or_open);
  if (!file) {
    skip_with_error(state, "open", file.error());
    return;
  }
  Bytes batch = append_batch(aligned);
  bool failed = false;
  for (auto _ : state) {
    if (failed) continue;
    if (auto s = (*file)->append(batch); !s) {
      skip_with_error(state, "append", s.error());
      failed = true;
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * batch.size()));
  file->reset();
  remove_dir(dir);
}
BENCHMARK_CAPTURE(BM_PwriteBaseline, batch, false)
    ->Iterations(kAppendNoneIterations)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_PwriteBaseline, aligned64k, true)
    ->Iterations(kAppendNoneIterations)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// Shared by the threads of one BM_AppendFsync run. Thread 0 fills it before the
// loop and empties it after; Google Benchmark's start/stop barriers order these
// against the other threads' loops, so no further locking is needed.
struct SharedLog {
  std::string dir;
  std::unique_ptr<storage::PartitionLog> log;
  storage::LogStats before;
};
SharedLog g_fsync_log;

void BM_AppendFsync(benchmark::State& state) {
  if (state.thread_index() == 0) {
    g_fsync_log.dir = fresh_dir("append-fsync");
    auto opened = open_log(g_fsync_log.dir, append_config(storage::Durability::fsync));
    if (opened) {
      g_fsync_log.log = std::move(*opened);
      g_fsync_log.before = g_fsync_log.log->stats();
    } else {
      skip_with_error(state, "open " + g_fsync_log.dir, opened.error());
    }
  }
  Bytes batch = make_batch_up_to(kBatchBytes, kRecordBytes, now_ms());
  storage::PartitionLog* log = nullptr;
  bool failed = false;
  // On failure keep looping without work instead of breaking out, so every thread
  // still reaches the stop barrier before thread 0 tears the log down.
  for (auto _ : state) {
    if (failed) continue;
    if (!log) {
      log = g_fsync_log.log.get();
      if (!log) {
        state.SkipWithError("log setup failed (see thread 0)");
        failed = true;
        continue;
      }
    }
    auto appended = log->append(batch);
    if (!appended) {
      skip_with_error(state, "append", appended.error());
      failed = true;
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * batch.size()));
  if (state.thread_index() == 0 && g_fsync_log.log) {
    // Every thread has left its loop. Counters are summed over threads, so only
    // thread 0 sets these whole-log figures.
    storage::LogStats after = g_fsync_log.log->stats();
    uint64_t appends = after.appends - g_fsync_log.before.appends;
    uint64_t syncs = after.syncs - g_fsync_log.before.syncs;
    state.counters["batches_per_fsync"] = syncs ? static_cast<double>(appends) / static_cast<double>(syncs) : 0.0;
    state.counters["fsyncs_per_s"] = benchmark::Counter(static_cast<double>(syncs), benchmark::Counter::kIsRate);
    state.counters["batch_bytes"] = static_cast<double>(batch.size());
    if (auto s = g_fsync_log.log->close(); !s) skip_with_error(state, "close", s.error());
    g_fsync_log.log.reset();
    remove_dir(g_fsync_log.dir);
  }
}
BENCHMARK(BM_AppendFsync)
    ->Threads(1)
    ->Threads(2)
    ->Threads(4)
    ->Threads(8)
    ->Threads(16)
    ->MinTime(2.0)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace sluice::bench
