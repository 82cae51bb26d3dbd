#include "sluice/storage/interval_flusher.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <future>

#include "sluice/storage/partition_log.h"

#include "test_support.h"

namespace sluice::storage {
namespace {

using namespace std::chrono_literals;
using testing::TempDir;

size_t thread_count() {
  size_t n = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/task")) ++n;
  return n;
}

TEST(IntervalFlusher, RunsEachTaskRepeatedly) {
  IntervalFlusher flusher(1);
  std::atomic<int> a{0};
  std::atomic<int> b{0};
  std::promise<void> both_ran_thrice;
  std::atomic<bool> signalled{false};
  auto check = [&] {
    if (a >= 3 && b >= 3 && !signalled.exchange(true)) both_ran_thrice.set_value();
  };
  auto ra = flusher.add(1ms, [&] { ++a, check(); });
  auto rb = flusher.add(2ms, [&] { ++b, check(); });
  EXPECT_EQ(both_ran_thrice.get_future().wait_for(10s), std::future_status::ready);
}

// Unregistering waits for a run in progress: after reset() returns the task
// never runs again and is not running, so what it touches can be freed.
TEST(IntervalFlusher, UnregisteringWaitsForARunInProgress) {
  IntervalFlusher flusher(2);
  std::promise<void> entered;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<bool> in_run{false};
  std::atomic<int> runs{0};
  auto registration = flusher.add(1ms, [&] {
    in_run = true;
    if (runs++ == 0) {
      entered.set_value();
      released.wait();
    }
    in_run = false;
  });
  entered.get_future().wait();
  auto unregistered = std::async(std::launch::async, [&] { registration.reset(); });
  EXPECT_EQ(unregistered.wait_for(50ms), std::future_status::timeout) << "reset() returned during a run";
  release.set_value();
  unregistered.get();
  EXPECT_FALSE(in_run);
  int after = runs;
  EXPECT_EQ(flusher.size(), 0u);
  // Other tasks still run; this one does not.
  std::promise<void> other_ran;
  std::atomic<bool> once{false};
  auto other = flusher.add(1ms, [&] {
    if (!once.exchange(true)) other_ran.set_value();
  });
  other_ran.get_future().wait();
  EXPECT_EQ(runs, after);
}

// 1,000 partitions with durability=interval used to start 1,000 threads.
TEST(IntervalFlusher, IntervalLogsStartNoThreadOfTheirOwn) {
  TempDir dir;
  LogConfig config;
  config.durability = Durability::interval;
  config.flush_interval_ms = 5;
  std::vector<std::unique_ptr<PartitionLog>> logs;
  auto first = PartitionLog::open(posix_file_system(), dir.sub("p0"), config);
  ASSERT_TRUE(first.has_value());
  logs.push_back(std::move(*first));
  size_t threads = thread_count();  // the shared pool exists from here on
  for (int i = 1; i < 200; ++i) {
    auto log = PartitionLog::open(posix_file_system(), dir.sub("p" + std::to_string(i)), config);
    ASSERT_TRUE(log.has_value());
    logs.push_back(std::move(*log));
  }
  EXPECT_EQ(thread_count(), threads);
  // And they are still synced in the background.
  Bytes batch = testing::make_batch(3);
  ASSERT_TRUE(logs.back()->append(batch).has_value());
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (logs.back()->durable_end_offset() < Offset(3) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
  }
  EXPECT_EQ(logs.back()->durable_end_offset(), Offset(3));
  for (auto& log : logs) ASSERT_TRUE(log->close().has_value());
}

}  // namespace
}  // namespace sluice::storage
