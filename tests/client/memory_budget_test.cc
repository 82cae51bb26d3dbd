#include "memory_budget.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

#include "sluice/client/client_errors.h"

#include "manual_steady_clock.h"

namespace sluice::client {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using testing::ManualSteadyClock;

TEST(MemoryBudget, ReserveAndRelease) {
  MemoryBudget m(100);
  ASSERT_TRUE(m.reserve(60, MemoryBudget::Block::no, Clock::now()));
  EXPECT_EQ(m.available(), 40u);
  m.release(60);
  EXPECT_EQ(m.available(), 100u);
}

TEST(MemoryBudget, FullFailsImmediatelyWithoutBlocking) {
  MemoryBudget m(100);
  ASSERT_TRUE(m.reserve(80, MemoryBudget::Block::no, Clock::now()));
  auto start = Clock::now();
  auto r = m.reserve(30, MemoryBudget::Block::no, Clock::now() + 10s);
  EXPECT_LT(Clock::now() - start, 1s);  // far below the 10 s deadline, with room for a loaded machine
  ASSERT_FALSE(r);
  EXPECT_EQ(error_reason(r.error()), reason::kBufferFull);
}

TEST(MemoryBudget, BlockingGivesUpAtTheDeadlineByItsClock) {
  ManualSteadyClock clock;
  MemoryBudget m(100, clock);
  ASSERT_TRUE(m.reserve(80, MemoryBudget::Block::no, clock.now()));
  std::promise<Status> result;
  std::thread waiter(
      [&, deadline = clock.now() + 10min] { result.set_value(m.reserve(30, MemoryBudget::Block::yes, deadline)); });
  while (!m.has_waiters()) std::this_thread::yield();
  clock.advance(10min - 1ms);
  EXPECT_TRUE(m.has_waiters());  // still waiting: its deadline has not come
  clock.advance(1ms);
  // Ten virtual minutes: a budget that waited on the real clock would hang here.
  auto r = result.get_future().get();
  waiter.join();
  ASSERT_FALSE(r);
  EXPECT_EQ(error_reason(r.error()), reason::kBufferFull);
  EXPECT_FALSE(m.has_waiters());
  EXPECT_EQ(m.available(), 20u);
}

TEST(MemoryBudget, BlockingWakesWhenMemoryIsReleased) {
  ManualSteadyClock clock;
  MemoryBudget m(100, clock);
  ASSERT_TRUE(m.reserve(80, MemoryBudget::Block::no, clock.now()));
  std::atomic<bool> got{false};
  std::thread t([&] {
    EXPECT_TRUE(m.reserve(30, MemoryBudget::Block::yes, clock.now() + 5s));
    got = true;
  });
  while (!m.has_waiters()) std::this_thread::yield();
  EXPECT_FALSE(got.load());  // waiting; no time passes on its clock
  m.release(80);
  t.join();
  EXPECT_TRUE(got.load());
  EXPECT_EQ(m.available(), 70u);
}

TEST(MemoryBudget, WaitersAreServedInArrivalOrder) {
  ManualSteadyClock clock;
  MemoryBudget m(100, clock);
  ASSERT_TRUE(m.reserve(100, MemoryBudget::Block::no, clock.now()));
  std::thread big([&] { EXPECT_TRUE(m.reserve(90, MemoryBudget::Block::yes, clock.now() + 5s)); });
  while (m.waiters() < 1) std::this_thread::yield();
  std::thread small([&] { EXPECT_TRUE(m.reserve(10, MemoryBudget::Block::yes, clock.now() + 5s)); });
  while (m.waiters() < 2) std::this_thread::yield();
  m.release(20);  // enough for the small one, but the big one came first
  EXPECT_EQ(m.waiters(), 2u) << "a later small request must not overtake an earlier big one";
  m.release(80);
  big.join();
  small.join();
  EXPECT_EQ(m.available(), 0u);
}

}  // namespace
}  // namespace sluice::client
