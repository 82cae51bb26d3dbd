// Randomized operations on a real partition log (append, read, roll, truncate,
// retention, flush, clean close, crash, power loss) checked against a simple
// in-memory model after every step. The seed is printed on failure; set
// SLUICE_SEED=<n> to replay one run, SLUICE_MODEL_RUNS / SLUICE_MODEL_OPS to scale.
#include <gtest/gtest.h>

#include <cstdlib>
#include <random>

#include "sluice/storage/partition_log.h"

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
    else if (op < 95)
      crash();
    else
      power_loss();
    check();
  }

 private:
  Offset model_end() const { return batches_.empty() ? start_ : batches_.back().next(); }

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
      ASSERT_EQ(s.error().code, Errc::not_batch_boundary);
      return;
    }
    auto s = log_->truncate_to(batches_[keep].base);
    ASSERT_TRUE(s.has_value()) << s.error().to_string();
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
    ASSERT_EQ(end, keep == 0 ? std::max(start_, end) : batches_[keep - 1].next()) << "log end inside a batch";
    batches_.resize(keep);
    if (batches_.empty()) start_ = log_->log_start_offset();
    mark_all_durable();
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
    while (at < model_end()) {
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
