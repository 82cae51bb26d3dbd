// The acks policy for writes, in one place: the produce handler and the
// coordinators writing to their internal topics all go through it.
//
//   I/O thread ──► append strand: Partition::append for each write, in order
//                  (pipelined requests of one connection append in arrival order)
//              ──► storage pool (acks=all): wait for durability, off the strand, so
//                  later requests append meanwhile and share the next fdatasync
//              ──► back on the caller's executor
//
// Thread-safety: a coroutine; the writes it is given are its own until it returns.
#pragma once

#include <functional>
#include <span>

#include <asio/awaitable.hpp>
#include <asio/strand.hpp>
#include <asio/thread_pool.hpp>

#include "sluice/broker/partition.h"

#include "write_health.h"

namespace sluice::broker {

// One partition's part of a write. `on_batch` is called with each batch's base
// offset as it is appended (on the strand).
struct PartitionWrite {
  Partition* partition = nullptr;
  MutableByteSpan records;
  std::function<void(Offset base)> on_batch;
  AppendedRun result;  // filled in; its status includes the durability wait's
};

// Where writes run: the ordering strand (one per connection, or one per
// coordinator), the pool that waits for syncs, and the health the outcomes feed.
struct AppendContext {
  asio::strand<asio::thread_pool::executor_type>& appends;
  asio::thread_pool::executor_type durability_waits;
  WriteHealth& health;
};

// Appends every write, then waits as `acks` asks; resumes on the caller's executor.
asio::awaitable<void> append_with_acks(AppendContext context, std::span<PartitionWrite> writes, Acks acks);

}  // namespace sluice::broker
