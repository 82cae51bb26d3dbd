#include "fetch_session.h"

#include <map>
#include <memory>

#include "sluice/client/client_errors.h"
#include "sluice/client/wire_error.h"

#include "sluice.pb.h"

namespace sluice::consumer {

FetchSession::FetchSession(client::NetworkClient& net, const ConsumerConfig& config, std::vector<FetchTarget> targets,
                           const std::optional<client::CommitMember>& member)
    : targets_(std::move(targets)) {
  wire::FetchRequest req;
  req.set_max_wait_ms(config.fetch_max_wait_ms);
  req.set_min_bytes(config.fetch_min_bytes);
  req.set_max_bytes(config.fetch_max_bytes);
  req.set_isolation_level(0);
  for (const FetchTarget& t : targets_) {
    auto* p = req.add_partitions();
    p->set_topic(t.partition.topic);
    p->set_partition(t.partition.partition);
    p->set_fetch_offset(t.offset);
    p->set_partition_max_bytes(config.max_partition_fetch_bytes);
  }
  if (member) {
    auto* watch = req.mutable_group_member();
    watch->set_group_id(config.group_id);
    watch->set_member_id(member->member_id);
    watch->set_member_epoch(member->member_epoch);
  }
  client::OutgoingRequest out;
  out.api = client::Api::fetch;
  out.body = client::serialize_message(req);
  // The broker may hold the request for max_wait before answering.
  out.timeout = std::chrono::milliseconds(config.request_timeout_ms + config.fetch_max_wait_ms);
  out.on_done = [pending = pending_](Result<client::Response> r) {
    {
      std::lock_guard lock(pending->mutex);
      pending->response = std::move(r);
    }
    pending->arrived.notify_all();
  };
  net.send(std::move(out));
}

bool FetchSession::wait(const client::SteadyClock& clock, client::SteadyTime deadline) {
  std::unique_lock lock(pending_->mutex);
  return clock.wait_until(pending_->arrived, lock, deadline, [&] { return pending_->response.has_value(); });
}

Result<std::vector<PartitionFetch>> FetchSession::take() {
  Result<client::Response> response = [&] {
    std::lock_guard lock(pending_->mutex);
    return std::move(*pending_->response);
  }();
  if (!response) return tl::unexpected(response.error());
  response_ = std::make_shared<const client::Response>(std::move(*response));
  wire::FetchResponse body;
  if (auto s = client::parse_body(response_->body(), body, "FetchResponse"); !s) return tl::unexpected(s.error());
  heartbeat_now_ = body.heartbeat_now();

  std::map<TopicPartition, const FetchTarget*> asked;
  for (const FetchTarget& t : targets_) asked[t.partition] = &t;
  ByteSpan records = response_->records();
  std::vector<PartitionFetch> out;
  for (const auto& p : body.partitions()) {
    if (p.records_size() > records.size()) {
      return tl::unexpected(
          client::client_error(client::ErrorCode::protocol_error, "FetchResponse records_size overruns the frame"));
    }
    ByteSpan bytes = records.first(p.records_size());
    records = records.subspan(p.records_size());
    auto it = asked.find(TopicPartition{p.topic(), p.partition()});
    if (it == asked.end()) continue;  // not asked for: ignore
    PartitionFetch f{*it->second, false, bytes, it->second->offset};
    if (p.has_error() && p.error().code() != wire::NONE) {
      if (p.error().code() == wire::OFFSET_OUT_OF_RANGE) {
        f.offset_out_of_range = true;
      } else {
        f.bytes = tl::unexpected(client::wire_error(p.error().code(), p.error().message()));
      }
    } else {
      f.next_offset = next_offset_after(bytes, f.target.offset);
      f.high_watermark = p.high_watermark();
    }
    out.push_back(std::move(f));
  }
  return out;
}

}  // namespace sluice::consumer
