#include "sluice/common/raw_buffer.h"

#include <gtest/gtest.h>

#include <cstring>
#include <thread>

namespace sluice {
namespace {

TEST(RawBuffer, HasTheAskedSizeAndMovesOwnership) {
  RawBuffer a(100);
  EXPECT_EQ(a.size(), 100u);
  std::memset(a.data(), 7, a.size());
  std::byte* bytes = a.data();
  RawBuffer b = std::move(a);
  EXPECT_EQ(b.data(), bytes);
  EXPECT_EQ(b.size(), 100u);
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): the moved-from state is what is tested
  EXPECT_EQ(b.span()[99], std::byte{7});
}

TEST(RawBufferPool, ALargeBufferIsReusedAfterItIsDropped) {
  auto pool = RawBufferPool::create(1024, 2);
  std::byte* first = nullptr;
  {
    RawBuffer a = pool->acquire(8192);
    first = a.data();
  }
  RawBuffer b = pool->acquire(4096);  // smaller fits into the returned one
  EXPECT_EQ(b.data(), first);
  EXPECT_EQ(b.size(), 4096u);
  RawBuffer c = pool->acquire(8192);  // nothing free: a new one
  EXPECT_NE(c.data(), first);
}

TEST(RawBufferPool, ATooSmallFreeBufferIsNotUsed) {
  auto pool = RawBufferPool::create(1024, 2);
  std::byte* small = nullptr;
  {
    RawBuffer a = pool->acquire(2048);
    small = a.data();
  }
  RawBuffer b = pool->acquire(1 << 20);
  EXPECT_NE(b.data(), small);
  EXPECT_EQ(b.size(), size_t{1} << 20);
  std::memset(b.data(), 1, b.size());  // the whole size is writable (ASan checks)
}

TEST(RawBufferPool, ABufferServesTheNextRequestOfAboutTheSameSize) {
  // Produce requests differ by a few bytes; a buffer sized exactly to the first
  // would miss every slightly larger one and each would map fresh memory.
  auto pool = RawBufferPool::create(1024, 2);
  std::byte* first = nullptr;
  {
    RawBuffer a = pool->acquire(100'000);
    first = a.data();
  }
  RawBuffer b = pool->acquire(100'100);
  EXPECT_EQ(b.data(), first);
  EXPECT_EQ(b.size(), 100'100u);
  std::memset(b.data(), 1, b.size());

  auto pool_every_size = RawBufferPool::create(0, 1);  // 0 rounds to nothing: still a valid pool
  RawBuffer c = pool_every_size->acquire(10);
  EXPECT_EQ(c.size(), 10u);
}

TEST(RawBufferPool, BuffersMayOutliveThePoolAndMoveAcrossThreads) {
  RawBuffer kept;
  {
    auto pool = RawBufferPool::create(16, 1);
    kept = pool->acquire(64);
    std::thread([buffer = pool->acquire(128)]() mutable { std::memset(buffer.data(), 0, buffer.size()); }).join();
  }
  std::memset(kept.data(), 1, kept.size());  // the pool is gone: dropping `kept` just frees it
  EXPECT_EQ(kept.size(), 64u);
}

}  // namespace
}  // namespace sluice
