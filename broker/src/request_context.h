// What a request handler sees: the broker's shared state, the request, and the
// response it fills in.
#pragma once

#include <atomic>
#include <memory>
#include <vector>

#include <asio/awaitable.hpp>
#include <asio/bind_executor.hpp>
#include <asio/post.hpp>
#include <asio/strand.hpp>
#include <asio/this_coro.hpp>
#include <asio/thread_pool.hpp>
#include <asio/use_awaitable.hpp>

#include "sluice/broker/broker_config.h"
#include "sluice/broker/log_cleaner.h"
#include "sluice/broker/metrics.h"
#include "sluice/broker/topic_table.h"
#include "sluice/common/steady_clock.h"
#include "sluice/proto/api_registry.h"
#include "sluice/proto/frame.h"

#include "group/group_coordinator.h"
#include "group/offset_store.h"
#include "producer_id_allocator.h"
#include "sluice.pb.h"
#include "txn/transaction_store.h"
#include "write_health.h"

namespace sluice::broker {

struct BrokerState {
  BrokerConfig config;
  HostPort address;
  std::unique_ptr<TopicTable> topics;
  std::unique_ptr<ProducerIdAllocator> producer_ids;
  std::unique_ptr<group::OffsetStore> offsets;     // loaded at start, before the listener opens
  std::unique_ptr<TransactionStore> transactions;  // likewise
  // Members and epochs, in memory only (group_coordinator.h); released before the I/O context.
  std::unique_ptr<group::GroupCoordinator> groups;
  std::unique_ptr<LogCleaner> cleaner;  // started with the listener, stopped before the logs close
  Metrics metrics;
  // Long-poll and idle deadlines are measured on it (BrokerEnvironment::steady_clock).
  const SteadyClock* steady_clock = &SystemSteadyClock::instance();
  // Set once when the broker begins to stop; then every partition's waiters are woken,
  // so a long poll answers with what it has instead of holding the stop for max_wait_ms.
  std::atomic<bool> stopping{false};
  std::unique_ptr<WriteHealth> write_health;  // set at start, for the data directory
  // Blocking storage work (appends that wait for fsync) runs here, never on an I/O thread.
  // Threads mostly wait in fdatasync (group commit), so there are more than cores.
  asio::thread_pool storage_pool{8};
  // Topic creation and deletion (file system work that can take seconds for many
  // partitions) run here: never on the I/O thread, and one at a time.
  asio::strand<asio::thread_pool::executor_type> admin = asio::make_strand(storage_pool);

  // The topic, created with defaults if auto-creation is on; null if unknown.
  std::shared_ptr<Topic> find_or_create(const std::string& name);
};

struct Request {
  const wire::RequestHeader& header;
  ByteSpan body;
  MutableByteSpan records;  // inside the request's buffer; handlers may rewrite it
  // Appends of one connection run here, in request order, even with requests pipelined.
  asio::strand<asio::thread_pool::executor_type>& appends;
  // The client's IP address ("" if unknown): a group member's host. Outlives the request.
  std::string_view client_host = {};
};

struct Response {
  std::unique_ptr<google::protobuf::MessageLite> body;
  // Record batches after the body: file ranges sent from the page cache without
  // copying (sendfile).
  std::vector<storage::FileRegion> file_regions;
  bool send = true;    // false: no response frame (produce with acks=0)
  bool error = false;  // for metrics
};

// Runs `work` (returning a Response) on `executor`, then resumes the calling
// coroutine on its own executor with the result: how a handler's blocking work
// leaves the I/O thread. The completion must be bound to `executor`: a plain
// post(executor, use_awaitable) resumes the coroutine on its own executor, so
// the work would still run on the I/O thread.
template <typename Executor, typename Work>
asio::awaitable<Response> run_on(Executor executor, Work work) {
  co_await asio::post(asio::bind_executor(executor, asio::use_awaitable));
  Response response = work();
  co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
  co_return response;
}

// invalid_group_id, or coordinator_load_in_progress until the offsets are loaded:
// why a group request is refused as a whole (handlers/offset_commit.cc).
Status check_group_request(const BrokerState& state, const std::string& group_id);

// One handler per API of the registry (sluice/proto/api_registry.h), each in
// src/handlers/, named handle_<id>. Returns the response; a null Response::body
// means the request body was malformed (the session answers INVALID_REQUEST).
#define SLUICE_BROKER_HANDLER(id, KEY, Message, key, min_version, max_version) \
  asio::awaitable<Response> handle_##id(BrokerState& state, Request request);
SLUICE_APIS(SLUICE_BROKER_HANDLER)
#undef SLUICE_BROKER_HANDLER

}  // namespace sluice::broker
