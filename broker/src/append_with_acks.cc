#include "append_with_acks.h"

#include <asio/bind_executor.hpp>
#include <asio/post.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

namespace sluice::broker {

asio::awaitable<void> append_with_acks(AppendContext context, std::span<PartitionWrite> writes, Acks acks) {
  if (writes.empty()) co_return;
  auto caller = co_await asio::this_coro::executor;
  // Each hop binds its completion to the target executor (see run_on): a plain
  // post(ex, use_awaitable) would resume on the I/O thread.
  co_await asio::post(asio::bind_executor(context.appends, asio::use_awaitable));
  for (PartitionWrite& w : writes) {
    w.result = w.partition->append(w.records, w.on_batch);
    context.health.record(w.result.status);
  }
  if (acks == Acks::all) {
    // Leave the strand before waiting, so later requests append (and share the
    // next fdatasync) meanwhile: group commit across pipelined requests.
    co_await asio::post(asio::bind_executor(context.durability_waits, asio::use_awaitable));
    for (PartitionWrite& w : writes) {
      if (!w.result.next_offset || !w.partition->syncs_before_ack(acks)) continue;
      Status synced = w.partition->wait_durable(*w.result.next_offset);
      context.health.record(synced);
      if (!synced && w.result.status) w.result.status = synced;
    }
  }
  co_await asio::post(caller, asio::use_awaitable);
}

}  // namespace sluice::broker
