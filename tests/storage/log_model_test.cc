// Randomized operations on a real partition log (append, read, roll, truncate,
// retention, flush, clean close, crash, power loss, and in a log whose offset
// gaps are legal what a cleaner does: drop batches from a closed segment)
// checked against a simple in-memory model after every step. The seed is printed on failure; set
// SLUICE_SEED=<n> to replay one run, SLUICE_MODEL_RUNS / SLUICE_MODEL_OPS to scale.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <random>

#include "sluice/storage/partition_log.h"
#include "sluice/storage/testing/fault_injection_file_system.h"

#include "test_support.h"

namespace sluice::storage {
namespace {

using testing::TempDir;

struct ModelBatch {
  Offset base;
  int32_t count = 0;
  Bytes bytes;  // as stored: base offset stamped
  bool durable = false;
  Offset next() const { return base + count; }
};

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v ? std::atoi(v) : fallback;
}

class LogModelRun {
 public:
  LogModelRun(uint64_t seed, const std::string& dir) : rng_(seed), dir_(dir) {
    config_.segment_bytes = 2048 + rng_() % 4096;
    config_.index_interval_bytes = 64 + rng_() % 512;
    config_.retention_ms = -1;
    Durability modes[] = {Durability::fsync, Durability::none, Durability::interval};
    config_.durability = modes[rng_() % 3];
    config_.flush_interval_ms = 5;
    config_.offset_gaps = rng_() % 3 == 0 ? OffsetGaps::are_legal : OffsetGaps::are_damage;
    reopen();
  }

  void step(int i) {
    int op = static_cast<int>(rng_() % 100);
    SCOPED_TRACE("step " + std::to_string(i) + " op " + std::to_string(op));
    if (std::getenv("SLUICE_MODEL_TRACE")) {
      std::fprintf(stderr, "step %d op %d end %lld durable %lld\n", i, op, static_cast<long long>(model_end().value()),
                   static_cast<long long>(log_->durable_end_offset().value()));
    }
    if (op < 45)
      append();
    else if (op < 65)
      read_random();
    else if (op < 70)
      ASSERT_TRUE(log_->roll().has_value());
    else if (op < 76)
      truncate();
    else if (op < 80)
      retention();
    else if (op < 86)
      flush();
    else if (op < 90)
      close_and_reopen();
    else if (op < 93)
      crash();
    else if (op < 98)
      power_loss();
    else if (config_.offset_gaps == OffsetGaps::are_legal)
      drop_last_batch_of_a_closed_segment();
    check();
  }

 private:
  // The log end: past the last batch, or where a truncation left it (which, in a
  // log with gaps, may be past the last batch kept).
  Offset model_end() const { return end_; }

  void reopen() {
    auto log = PartitionLog::open(fs_, dir_, config_);
    ASSERT_TRUE(log.has_value()) << log.error().to_string();
    log_ = std::move(*log);
  }

  void append() {
    storage::BatchBuilder builder(BatchOptions{.compression = rng_() % 4 == 0 ? Compression::zstd : Compression::none});
    int count = 1 + static_cast<int>(rng_() % 6);
    for (int i = 0; i < count; ++i) {
      std::string key = "key" + std::to_string(rng_() % 1000);
      std::string value(rng_() % 200, static_cast<char>('a' + rng_() % 26));
      bool null_key = rng_() % 5 == 0;
      builder.add(next_timestamp_++, null_key ? std::nullopt : std::optional<ByteSpan>(as_bytes(key)), as_bytes(value));
    }
    Bytes batch = std::move(*builder.build());
    auto r = log_->append(batch);
    ASSERT_TRUE(r.has_value()) << r.error().to_string();
    ASSERT_EQ(r->base_offset, model_end());
    // In fsync mode an acknowledged append is durable; others become durable on flush.
    batches_.push_back({r->base_offset, count, batch, config_.durability == Durability::fsync});
    end_ = batches_.back().next();
  }

  void read_random() {
    if (batches_.empty()) return;
    Offset target = start_ + static_cast<int64_t>(rng_() % static_cast<uint64_t>(model_end() - start_ + 1));
    size_t max_bytes = 1 + rng_() % 3000;
    bool locate = rng_() % 2 == 0;  // as the broker's fetch reads: headers only, bytes as file regions
    Bytes buffer;
    auto r =
        log_->read(target, max_bytes, buffer, locate ? PartitionLog::ReadMode::locate : PartitionLog::ReadMode::copy);
    ASSERT_TRUE(r.has_value()) << r.error().to_string();
    Bytes located = testing::region_bytes(*r);
    ASSERT_EQ(located.size(), r->bytes);
    if (locate) {
      buffer = located;
    } else {
      ASSERT_EQ(located, buffer) << "the file regions hold the copied bytes";
    }
    // Expected: the batch holding `target`, then as many whole batches as fit.
    Bytes expected;
    Offset next = target;
    for (const auto& b : batches_) {
      if (b.next() <= target) continue;
      if (!expected.empty() && expected.size() + b.bytes.size() > max_bytes) break;
      expected.insert(expected.end(), b.bytes.begin(), b.bytes.end());
      next = b.next();
      if (expected.size() >= max_bytes) break;
    }
    ASSERT_EQ(buffer.size(), r->bytes);
    ASSERT_EQ(buffer, expected) << "read at " << target.value() << " max " << max_bytes;
    ASSERT_EQ(r->next_offset, next);
  }

  void truncate() {
    if (batches_.empty()) return;
    size_t keep = rng_() % batches_.size();
    // Sometimes aim inside a batch: it must be rejected and change nothing.
    if (batches_[keep].count > 1 && rng_() % 3 == 0) {
      auto s = log_->truncate_to(batches_[keep].base + 1);
      ASSERT_FALSE(s.has_value());
      ASSERT_EQ(s.error().code, StorageErrc::not_batch_boundary);
      return;
    }
    auto s = log_->truncate_to(batches_[keep].base);
    ASSERT_TRUE(s.has_value()) << s.error().to_string();
    end_ = batches_[keep].base;
    batches_.resize(keep);
  }

  void retention() {
    LogConfig config = config_;
    config.retention_bytes = static_cast<int64_t>(rng_() % 8000);
    ASSERT_TRUE(log_->close().has_value());
    log_.reset();
    auto log = PartitionLog::open(fs_, dir_, config);
    ASSERT_TRUE(log.has_value());
    ASSERT_TRUE((*log)->apply_retention().has_value());
    ASSERT_TRUE((*log)->close().has_value());
    mark_all_durable();
    log->reset();
    reopen();
    Offset new_start = log_->log_start_offset();
    ASSERT_GE(new_start, start_);
    while (!batches_.empty() && batches_.front().base < new_start) {
      ASSERT_LE(batches_.front().next(), new_start) << "retention cut inside a batch";
      batches_.erase(batches_.begin());
    }
    start_ = new_start;
  }

  void flush() {
    ASSERT_TRUE(log_->flush().has_value());
    mark_all_durable();
  }

  void mark_all_durable() {
    for (auto& b : batches_) b.durable = true;
  }

  void close_and_reopen() {
    ASSERT_TRUE(log_->close().has_value());
    mark_all_durable();
    log_.reset();
    reopen();
    ASSERT_TRUE(log_->recovery().clean_shutdown);
  }

  // The process dies; the page cache keeps every written byte.
  void crash() {
    log_.reset();
    reopen();
    ASSERT_EQ(log_->recovery().bytes_truncated, 0u) << "a crash without power loss loses nothing";
    mark_all_durable();  // reopening syncs what it recovered
  }

  // The machine loses power: only synced bytes remain.
  void power_loss() {
    log_.reset();
    ASSERT_TRUE(fs_.drop_unsynced().has_value());
    reopen();
    Offset end = log_->log_end_offset();
    size_t keep = 0;
    while (keep < batches_.size() && batches_[keep].next() <= end) ++keep;
    for (size_t i = keep; i < batches_.size(); ++i) {
      ASSERT_FALSE(batches_[i].durable) << "durable batch at " << batches_[i].base.value() << " lost; log end "
                                        << end.value();
    }
    Offset kept_end = keep == 0 ? std::max(start_, end) : batches_[keep - 1].next();
    if (config_.offset_gaps == OffsetGaps::are_legal) {
      // A truncation may have left the end past the last batch, in a gap.
      ASSERT_GE(end, kept_end) << "log end inside a batch";
      ASSERT_LE(end, model_end());
    } else {
      ASSERT_EQ(end, kept_end) << "log end inside a batch";
    }
    batches_.resize(keep);
    if (batches_.empty()) start_ = log_->log_start_offset();
    end_ = end;
    mark_all_durable();
  }

  // What a cleaner does: the last batch of a closed segment goes, so the segment
  // ends below its successor's base. Done with the log closed, through the
  // fault-injecting file system; the next open is clean or not, at random.
  void drop_last_batch_of_a_closed_segment() {
    if (log_->segment_count() < 2) return;
    ASSERT_TRUE(log_->close().has_value());
    mark_all_durable();
    log_.reset();
    std::vector<std::string> segments;
    for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
      std::string name = entry.path().filename().string();
      if (name.size() == 24 && name.ends_with(".log")) segments.push_back(entry.path().string());
    }
    std::sort(segments.begin(), segments.end());
    // The active segment is never cleaned. While it is empty the log ends at its
    // base, past the model's last batch: skip.
    bool active_empty = std::filesystem::file_size(segments.back()) == 0;
    segments.pop_back();
    if (active_empty) {
      reopen();
      return;
    }
    const std::string& path = segments[rng_() % segments.size()];
    auto file = fs_.open(path, OpenMode::must_exist);
    ASSERT_TRUE(file.has_value());
    Bytes bytes((*file)->size());
    ASSERT_TRUE((*file)->read_at(0, bytes).has_value());
    std::optional<BatchHeader> last;
    uint64_t last_position = 0;
    for (uint64_t pos = 0; pos < bytes.size();) {
      auto h = read_batch_header(ByteSpan(bytes).subspan(pos));
      ASSERT_TRUE(h.has_value());
      last = *h;
      last_position = pos;
      pos += h->total_size();
    }
    if (last) {
      ASSERT_TRUE((*file)->truncate(last_position).has_value());
      ASSERT_TRUE((*file)->sync().has_value());
      std::erase_if(batches_, [&](const ModelBatch& b) { return b.base == last->base_offset; });
    }
    file->reset();
    if (rng_() % 2 == 0) std::filesystem::remove(dir_ + "/clean-shutdown");
    reopen();
    if (batches_.empty()) start_ = log_->log_start_offset();
  }

  void check() {
    ASSERT_EQ(log_->log_end_offset(), model_end());
    ASSERT_EQ(log_->log_start_offset(), batches_.empty() ? log_->log_start_offset() : start_);
    // Every record of the model is readable, byte for byte, from the start.
    Bytes all;
    for (const auto& b : batches_) all.insert(all.end(), b.bytes.begin(), b.bytes.end());
    Bytes got;
    Bytes buffer;
    Offset at = batches_.empty() ? model_end() : batches_.front().base;
    // Past the last batch there may be a gap up to the log end: nothing to read there.
    Offset last = batches_.empty() ? model_end() : batches_.back().next();
    while (at < last) {
      auto r = log_->read(at, 1 + rng_() % 5000, buffer);
      ASSERT_TRUE(r.has_value()) << r.error().to_string();
      ASSERT_GT(r->bytes, 0u) << "no progress reading at " << at.value();
      got.insert(got.end(), buffer.begin(), buffer.end());
      at = r->next_offset;
    }
    ASSERT_EQ(got, all);
  }

  std::mt19937_64 rng_;
  std::string dir_;
  FaultInjectionFileSystem fs_;
  LogConfig config_;
  std::unique_ptr<PartitionLog> log_;
  std::vector<ModelBatch> batches_;
  Offset start_{0};
  Offset end_{0};
  int64_t next_timestamp_ = 1'000;
};

TEST(LogModel, RandomOperationsKeepEveryDurableRecordIntact) {
  const char* fixed = std::getenv("SLUICE_SEED");
  int runs = fixed ? 1 : env_int("SLUICE_MODEL_RUNS", 12);
  int ops = env_int("SLUICE_MODEL_OPS", 400);
  uint64_t base_seed = fixed ? std::strtoull(fixed, nullptr, 10) : std::random_device{}();
  for (int run = 0; run < runs; ++run) {
    uint64_t seed = base_seed + static_cast<uint64_t>(run);
    SCOPED_TRACE("replay with SLUICE_SEED=" + std::to_string(seed));
    TempDir dir;
    LogModelRun model(seed, dir.path());
    for (int i = 0; i < ops; ++i) {
      model.step(i);
      if (::testing::Test::HasFatalFailure()) {
        std::fprintf(stderr, "log model failed: SLUICE_SEED=%llu step %d\n", static_cast<unsigned long long>(seed), i);
        return;
      }
    }
  }
}

}  // namespace
}  // namespace sluice::storage
