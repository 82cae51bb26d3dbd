#include "memory_budget.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "sluice/client/client_errors.h"

namespace sluice::client {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

TEST(MemoryBudget, ReserveAndRelease) {
  MemoryBudget m(100);
  ASSERT_TRUE(m.reserve(60, false, Clock::now()));
  EXPECT_EQ(m.available(), 40u);
  m.release(60);
  EXPECT_EQ(m.available(), 100u);
}

TEST(MemoryBudget, FullFailsImmediatelyWithoutBlocking) {
  MemoryBudget m(100);
  ASSERT_TRUE(m.reserve(80, false, Clock::now()));
  auto start = Clock::now();
  auto r = m.reserve(30, false, Clock::now() + 10s);
  EXPECT_LT(Clock::now() - start, 1s);  // far below the 10 s deadline, with room for a loaded machine
  ASSERT_FALSE(r);
  EXPECT_EQ(error_reason(r.error()), reason::kBufferFull);
}

TEST(MemoryBudget, BlockingGivesUpAtTheDeadline) {
  MemoryBudget m(100);
  ASSERT_TRUE(m.reserve(80, false, Clock::now()));
  auto start = Clock::now();
  auto r = m.reserve(30, true, start + 150ms);
  auto waited = Clock::now() - start;
  ASSERT_FALSE(r);
  EXPECT_EQ(error_reason(r.error()), reason::kBufferFull);
  EXPECT_GE(waited, 140ms);
  EXPECT_FALSE(m.has_waiters());
}

TEST(MemoryBudget, BlockingWakesWhenMemoryIsReleased) {
  MemoryBudget m(100);
  ASSERT_TRUE(m.reserve(80, false, Clock::now()));
  std::atomic<bool> got{false};
  std::thread t([&] {
    EXPECT_TRUE(m.reserve(30, true, Clock::now() + 5s));
    got = true;
  });
  std::this_thread::sleep_for(50ms);
  EXPECT_FALSE(got.load());
  m.release(80);
  t.join();
  EXPECT_TRUE(got.load());
  EXPECT_EQ(m.available(), 70u);
}

TEST(MemoryBudget, WaitersAreServedInArrivalOrder) {
  MemoryBudget m(100);
  ASSERT_TRUE(m.reserve(100, false, Clock::now()));
  std::atomic<int> done{0};
  std::thread big([&] {
    EXPECT_TRUE(m.reserve(90, true, Clock::now() + 5s));
    ++done;
  });
  while (!m.has_waiters()) std::this_thread::yield();
  std::thread small([&] {
    EXPECT_TRUE(m.reserve(10, true, Clock::now() + 5s));
    ++done;
  });
  std::this_thread::sleep_for(50ms);
  m.release(20);  // enough for the small one, but the big one came first
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(done.load(), 0) << "a later small request must not overtake an earlier big one";
  EXPECT_EQ(m.available(), 20u);
  m.release(80);
  big.join();
  small.join();
  EXPECT_EQ(done.load(), 2);
  EXPECT_EQ(m.available(), 0u);
}

}  // namespace
}  // namespace sluice::client
