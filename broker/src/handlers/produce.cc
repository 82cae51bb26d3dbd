#include <asio/bind_executor.hpp>
#include <asio/post.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include "sluice/storage/record_batch.h"

#include "../request_context.h"
#include "../wire_errors.h"

namespace sluice::broker {
namespace {

struct PartitionWrite {
  wire::ProduceResponse::PartitionResult* result;
  std::shared_ptr<Topic> topic;
  Partition* partition = nullptr;
  MutableByteSpan records;
  std::optional<Offset> next_offset;  // after the last appended batch
};

// A pool thread keeps the buffer it decompresses batches into up to this size; one
// that grew past it (a batch of up to max_uncompressed_bytes) is given back.
constexpr size_t kMaxKeptScratchBytes = 8u << 20;

// Validates and appends every batch in `w.records` without waiting for a sync.
// Runs on the connection's append strand, so pipelined requests append in order.
void append_partition(BrokerState& state, PartitionWrite& w) {
  const auto& config = w.topic->config.log;
  thread_local Bytes scratch;
  MutableByteSpan rest = w.records;
  bool first = true;
  uint64_t records = 0;
  uint64_t bytes = 0;
  while (!rest.empty()) {
    // Every record is checked, compressed or not: a batch that is stored must be one
    // every consumer can read, or they all stop at it.
    auto valid = storage::validate_batch(
        rest, {.max_batch_bytes = config.max_batch_bytes, .from_client = true, .scratch = &scratch});
    if (scratch.size() > kMaxKeptScratchBytes) Bytes().swap(scratch);
    if (!valid) {
      set_error(w.result->mutable_error(), valid.error());
      return;
    }
    MutableByteSpan batch = rest.first(valid->total_size());
    auto appended = w.partition->log().append_validated(batch, *valid, storage::PartitionLog::AwaitDurable::no);
    state.write_health->record(appended ? Status{} : Status(tl::unexpected(appended.error())));
    if (!appended) {
      set_error(w.result->mutable_error(), appended.error());
      return;
    }
    if (first) w.result->set_base_offset(appended->base_offset.value());
    first = false;
    w.result->add_batch_base_offsets(appended->base_offset.value());
    w.next_offset = appended->last_offset + 1;
    if (!appended->duplicate) {
      records += static_cast<uint64_t>(valid->record_count);
      bytes += batch.size();
    }
    rest = rest.subspan(batch.size());
  }
  w.result->set_log_start_offset(w.partition->log().log_start_offset().value());
  state.metrics.topic_in(w.topic->name, bytes, records);
  w.partition->notify_appended();
}

}  // namespace

asio::awaitable<Response> handle_produce(BrokerState& state, Request request) {
  wire::ProduceRequest req;
  if (!wire::parse_message(request.body, req)) co_return Response{nullptr};
  auto body = std::make_unique<wire::ProduceResponse>();
  Response response;
  response.send = req.acks() != 0;
  bool acks_valid = req.acks() == 0 || req.acks() == 1 || req.acks() == -1;

  std::vector<PartitionWrite> writes;
  size_t position = 0;
  for (const auto& pd : req.partitions()) {
    auto* result = body->add_results();
    result->set_topic(pd.topic());
    result->set_partition(pd.partition());
    result->set_base_offset(-1);
    if (pd.records_size() > request.records.size() - position) {
      // The body promises more record bytes than the frame carries: the request is malformed.
      co_return Response{nullptr};
    }
    MutableByteSpan records = request.records.subspan(position, pd.records_size());
    position += pd.records_size();
    if (!acks_valid) {
      set_error(result->mutable_error(), wire::INVALID_REQUIRED_ACKS, "acks must be 0, 1 or -1 (all)");
      continue;
    }
    auto topic = state.find_or_create(pd.topic());
    if (!topic || pd.partition() < 0 || pd.partition() >= static_cast<int32_t>(topic->partitions.size())) {
      set_error(result->mutable_error(), wire::UNKNOWN_TOPIC_OR_PARTITION,
                "no partition " + pd.topic() + "-" + std::to_string(pd.partition()));
      continue;
    }
    if (records.empty()) {
      set_error(result->mutable_error(), wire::CORRUPT_MESSAGE, "no record batch for " + pd.topic());
      continue;
    }
    writes.push_back({result, topic, topic->partitions[static_cast<size_t>(pd.partition())].get(), records});
  }
  if (position != request.records.size()) co_return Response{nullptr};  // trailing bytes nobody claimed

  if (!writes.empty()) {
    auto io = co_await asio::this_coro::executor;
    // Each hop binds its completion to the target executor (see run_on): a plain
    // post(ex, use_awaitable) would resume on the I/O thread.
    co_await asio::post(asio::bind_executor(request.appends, asio::use_awaitable));
    for (auto& w : writes) append_partition(state, w);
    if (req.acks() == -1) {
      // Leave the strand before waiting, so later requests append (and share the
      // next fdatasync) meanwhile: group commit across pipelined requests.
      co_await asio::post(asio::bind_executor(state.storage_pool.get_executor(), asio::use_awaitable));
      for (auto& w : writes) {
        if (!w.next_offset || w.topic->config.log.durability != storage::Durability::fsync) continue;
        Status synced = w.partition->log().wait_durable(*w.next_offset);
        state.write_health->record(synced);
        if (!synced) set_error(w.result->mutable_error(), synced.error());
      }
    }
    co_await asio::post(io, asio::use_awaitable);
  }
  for (const auto& r : body->results()) {
    if (r.error().code() != wire::NONE) response.error = true;
  }
  response.body = std::move(body);
  co_return response;
}

}  // namespace sluice::broker
