#include <chrono>
#include <vector>

#include <asio/post.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include "../group/group_coordinator.h"
#include "../request_context.h"
#include "../wire_errors.h"

namespace sluice::broker {
namespace {

constexpr int32_t kMaxWaitCapMs = 60'000;

struct Target {
  const wire::FetchRequest::FetchPartition* request;
  std::shared_ptr<Topic> topic;
  Partition* partition = nullptr;
};

// Reads every partition once into `body` and `regions` (file ranges of whole,
// CRC-checked batches); returns the bytes read. `records` gets the record count
// per target.
size_t read_once(const wire::FetchRequest& req, std::vector<Target>& targets, wire::FetchResponse& body,
                 std::vector<storage::FileRegion>& regions, std::vector<int64_t>& records, bool& any_error) {
  body.Clear();
  regions.clear();
  records.assign(targets.size(), 0);
  any_error = false;
  size_t total = 0;
  size_t budget = req.max_bytes() > 0 ? static_cast<size_t>(req.max_bytes()) : (50u << 20);
  // The read walks batch headers (checking the CRC of bytes not checked before);
  // the bytes then go out from the page cache. Scratch for those checks, reused
  // across requests on this (I/O) thread so reads do not re-allocate it.
  thread_local Bytes buffer;
  for (size_t i = 0; i < targets.size(); ++i) {
    Target& t = targets[i];
    auto* pd = body.add_partitions();
    pd->set_topic(t.request->topic());
    pd->set_partition(t.request->partition());
    pd->set_high_watermark(-1);
    pd->set_log_start_offset(-1);
    if (!t.partition) {
      set_error(pd->mutable_error(),
                Error{BrokerErrc::unknown_topic_or_partition,
                      "no partition " + t.request->topic() + "-" + std::to_string(t.request->partition())});
      any_error = true;
      continue;
    }
    Partition& partition = *t.partition;
    size_t limit =
        t.request->partition_max_bytes() > 0 ? static_cast<size_t>(t.request->partition_max_bytes()) : (1u << 20);
    // Past the first partition with data, stay within the request's budget (KIP-74: the
    // first batch is returned whole even if larger, so a consumer always progresses).
    if (total > 0) limit = std::min(limit, budget > total ? budget - total : 0);
    if (limit == 0 && total > 0) {
      pd->set_high_watermark(partition.high_watermark().value());
      pd->set_log_start_offset(partition.log_start().value());
      continue;
    }
    auto r = partition.read({.start = Offset(t.request->fetch_offset()), .max_bytes = limit}, buffer);
    pd->set_high_watermark(partition.high_watermark().value());
    pd->set_log_start_offset(partition.log_start().value());
    if (!r) {
      set_error(pd->mutable_error(), r.error());
      any_error = true;
      continue;
    }
    pd->set_records_size(static_cast<uint32_t>(r->bytes));
    total += r->bytes;
    records[i] = r->records;
    for (auto& region : r->regions) regions.push_back(std::move(region));
  }
  return total;
}

}  // namespace

asio::awaitable<Response> handle_fetch(BrokerState& state, Request request) {
  wire::FetchRequest req;
  if (!wire::parse_message(request.body, req)) co_return Response{nullptr};
  std::vector<Target> targets;
  for (const auto& p : req.partitions()) {
    Target t{&p, state.topics->find(p.topic()), nullptr};
    if (t.topic && p.partition() >= 0 && p.partition() < static_cast<int32_t>(t.topic->partitions.size())) {
      t.partition = t.topic->partitions[static_cast<size_t>(p.partition())].get();
    }
    targets.push_back(std::move(t));
  }
  const SteadyClock& clock = *state.steady_clock;
  auto deadline = clock.now() + std::chrono::milliseconds(std::clamp(req.max_wait_ms(), 0, kMaxWaitCapMs));
  size_t min_bytes = static_cast<size_t>(std::max(req.min_bytes(), 0));
  const auto& member = req.group_member();
  const bool watches_group = state.groups && req.has_group_member() && !member.group_id().empty();
  auto body = std::make_unique<wire::FetchResponse>();
  Response response;
  std::vector<int64_t> records;
  auto executor = co_await asio::this_coro::executor;
  while (true) {
    // Register for wake-ups before reading, so an append between the read and the
    // wait is never missed.
    auto timer = std::make_shared<asio::steady_timer>(executor, timer_expiry(clock, deadline));
    auto wake = [weak = std::weak_ptr<asio::steady_timer>(timer), executor] {
      if (auto tm = weak.lock()) asio::post(executor, [tm] { tm->cancel(); });
    };
    // A clock moved by a test wakes the wait; the system clock never calls back.
    const SteadyClock::Subscription advanced = clock.jumps() ? clock.on_advance(wake) : 0;
    std::vector<std::pair<Partition*, uint64_t>> waits;
    for (auto& t : targets) {
      if (!t.partition) continue;
      waits.emplace_back(t.partition, t.partition->on_next_append(wake));
    }
    const uint64_t group_watch = watches_group ? state.groups->watch(member.group_id(), wake) : 0;
    size_t bytes = read_once(req, targets, *body, response.file_regions, records, response.error);
    const bool heartbeat_now =
        watches_group && state.groups->heartbeat_due(member.group_id(), member.member_id(), member.member_epoch());
    body->set_heartbeat_now(heartbeat_now);
    bool done =
        bytes >= min_bytes || response.error || heartbeat_now || clock.now() >= deadline || state.stopping.load();
    if (!done) {
      std::error_code ec;
      co_await timer->async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    for (auto [partition, id] : waits) partition->cancel_wait(id);
    if (group_watch != 0) state.groups->unwatch(member.group_id(), group_watch);
    if (advanced != 0) clock.cancel_on_advance(advanced);
    if (done) break;
    if (clock.now() >= deadline) {
      read_once(req, targets, *body, response.file_regions, records, response.error);
      break;
    }
  }
  for (size_t i = 0; i < targets.size(); ++i) {
    size_t size = body->partitions(static_cast<int>(i)).records_size();
    if (size > 0) targets[i].partition->count_sent(size, static_cast<uint64_t>(records[i]));
  }
  response.body = std::move(body);
  co_return response;
}

}  // namespace sluice::broker
