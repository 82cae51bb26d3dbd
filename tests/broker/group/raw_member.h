// A group member speaking ConsumerGroupHeartbeat over a RawClient, for tests against a
// real broker: it reports what it owns and takes whatever assignment it is given.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "../raw_client.h"

namespace sluice::testing {

// Creates `name` with `partitions` partitions; the result's error code.
inline wire::ErrorCode create_group_topic(RawClient& c, const std::string& name, int32_t partitions) {
  wire::CreateTopicsRequest::NewTopic topic;
  topic.set_name(name);
  topic.set_partitions(partitions);
  wire::CreateTopicsRequest req;
  *req.add_topics() = std::move(topic);
  const auto resp = c.call<wire::CreateTopicsResponse>(wire::CREATE_TOPICS, req);
  return resp && resp->results_size() == 1 ? resp->results(0).error().code() : wire::UNKNOWN_SERVER_ERROR;
}

struct RawMember {
  using Owned = std::map<std::string, std::vector<int32_t>>;

  std::string group;
  std::vector<std::string> topics;            // sent on join
  std::optional<int32_t> session_timeout_ms;  // sent on join
  std::string id;
  int32_t epoch = 0;
  Owned owned;

  size_t partitions() const {
    size_t n = 0;
    for (const auto& [topic, list] : owned) n += list.size();
    return n;
  }

  // One heartbeat; on success the member takes the id, epoch and any assignment.
  wire::ConsumerGroupHeartbeatResponse beat(RawClient& c) {
    wire::ConsumerGroupHeartbeatRequest req;
    req.set_group_id(group);
    req.set_member_id(id);
    req.set_member_epoch(epoch);
    req.set_rebalance_timeout_ms(-1);
    if (epoch == 0) {
      for (const auto& t : topics) req.mutable_subscribed_topics()->add_names(t);
      if (session_timeout_ms) req.set_session_timeout_ms(*session_timeout_ms);
    }
    for (const auto& [topic, list] : owned) {
      auto* tp = req.mutable_owned()->add_topics();
      tp->set_topic(topic);
      for (int32_t p : list) tp->add_partitions(p);
    }
    auto resp = c.call<wire::ConsumerGroupHeartbeatResponse>(wire::CONSUMER_GROUP_HEARTBEAT, req);
    if (!resp) {
      wire::ConsumerGroupHeartbeatResponse failed;
      failed.mutable_error()->set_code(wire::UNKNOWN_SERVER_ERROR);
      failed.mutable_error()->set_message("no response");
      return failed;
    }
    if (resp->error().code() != wire::NONE) return *resp;
    id = resp->member_id();
    epoch = resp->member_epoch();
    if (resp->has_assignment()) {
      owned.clear();
      for (const auto& t : resp->assignment().topics()) {
        if (t.partitions_size() > 0) owned[t.topic()].assign(t.partitions().begin(), t.partitions().end());
      }
    }
    return *resp;
  }
};

}  // namespace sluice::testing
