#include "read_fixtures.h"

#include <chrono>
#include <cstdlib>

#include "sluice/storage/file_system.h"

#include "bench_common.h"

namespace sluice::bench {
namespace {

std::unique_ptr<ReadFixture> g_page_cache_log;
std::unique_ptr<ReadFixture> g_small_batch_log;

uint64_t log_bytes() {
  const char* env = std::getenv("SLUICE_BENCH_LOG_MIB");
  uint64_t mib = env && *env ? std::strtoull(env, nullptr, 10) : 512;
  return (mib ? mib : 512) * kMiB;
}

storage::LogConfig read_config() {
  storage::LogConfig config;
  config.durability = storage::Durability::none;
  config.segment_bytes = 1ull << 30;  // one segment for the default 512 MiB
  return config;
}

Result<std::unique_ptr<ReadFixture>> build(const std::string& name, int records_per_batch, size_t value_bytes,
                                           bool open_segment) {
  auto fixture = std::make_unique<ReadFixture>();
  fixture->dir = fresh_dir(name);
  fixture->records_per_batch = records_per_batch;
  fixture->first_timestamp =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  const storage::LogConfig config = read_config();
  {
    auto log = open_log(fixture->dir, config);
    if (!log) return tl::unexpected(log.error());
    auto written = fill_log(**log, log_bytes(), records_per_batch, value_bytes, fixture->first_timestamp);
    if (!written) return tl::unexpected(written.error());
    fixture->bytes = *written;
    // close() syncs everything and writes the index files and the clean-shutdown marker.
    if (auto s = (*log)->close(); !s) return tl::unexpected(s.error());
  }
  auto log = open_log(fixture->dir, config);
  if (!log) return tl::unexpected(log.error());
  fixture->log = std::move(*log);
  fixture->end_offset = fixture->log->log_end_offset();
  // The last record's timestamp: one per record, 1 ms apart, from first_timestamp.
  fixture->last_timestamp = fixture->first_timestamp + (fixture->end_offset.value() - 1);
  if (open_segment) {
    if (fixture->log->segment_count() != 1) {
      return make_error(Errc::invalid_argument,
                        "expected one segment, found " + std::to_string(fixture->log->segment_count()));
    }
    storage::SegmentOptions options{config.index_interval_bytes, config.max_batch_bytes, config.segment_bytes};
    storage::SegmentRecovery report;
    auto segment = storage::Segment::open(storage::posix_file_system(), fixture->dir, Offset(0), options,
                                          storage::Segment::Scan::no, report);
    if (!segment) return tl::unexpected(segment.error());
    fixture->segment = std::move(*segment);
  }
  // Read everything once so the whole log is in the page cache.
  Bytes buffer;
  Offset next(0);
  while (next < fixture->end_offset) {
    auto r = fixture->log->read(next, 1 * kMiB, buffer);
    if (!r) return tl::unexpected(r.error());
    next = r->next_offset;
  }
  return fixture;
}

void release(std::unique_ptr<ReadFixture>& fixture) {
  if (!fixture) return;
  fixture->segment.reset();
  fixture->log.reset();
  remove_dir(fixture->dir);
  fixture.reset();
}

}  // namespace

Result<ReadFixture*> page_cache_log() {
  if (!g_page_cache_log) {
    auto built = build("read-page-cache", records_fitting(64 * kKiB, 1 * kKiB), 1 * kKiB, false);
    if (!built) return tl::unexpected(built.error());
    g_page_cache_log = std::move(*built);
  }
  return g_page_cache_log.get();
}

Result<ReadFixture*> small_batch_log() {
  if (!g_small_batch_log) {
    auto built = build("index-small-batches", 1, 1 * kKiB, true);
    if (!built) return tl::unexpected(built.error());
    g_small_batch_log = std::move(*built);
  }
  return g_small_batch_log.get();
}

void release_read_fixtures() {
  release(g_page_cache_log);
  release(g_small_batch_log);
}

}  // namespace sluice::bench
