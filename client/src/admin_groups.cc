// Admin calls about consumer groups: ListGroups, DescribeGroups, DeleteGroups,
// DescribeGroupOffsets, and offsets altered by a commit from outside the group.
#include <algorithm>

#include "sluice/client/admin.h"
#include "sluice/client/client_errors.h"
#include "sluice/client/wire_error.h"

#include "admin_impl.h"
#include "sluice.pb.h"

namespace sluice::client {
namespace {

bool failed(const wire::Error& error) { return error.code() != wire::NONE; }
Error error_of(const wire::Error& error) { return wire_error(error.code(), error.message()); }

std::vector<TopicPartition> from_wire(const wire::ConsumerGroupHeartbeatRequest::Assignment& assignment) {
  std::vector<TopicPartition> out;
  for (const auto& t : assignment.topics()) {
    for (int32_t p : t.partitions()) out.push_back({t.topic(), p});
  }
  std::sort(out.begin(), out.end());
  return out;
}

GroupDescription from_wire(const wire::DescribeGroupsResponse::DescribedGroup& g) {
  GroupDescription out{g.group_id(), g.state(), g.group_epoch(), g.assignment_epoch(), g.assignor(), {}};
  for (const auto& m : g.members()) {
    GroupMemberDescription member;
    member.member_id = m.member_id();
    if (m.has_instance_id()) member.instance_id = m.instance_id();
    member.client_id = m.client_id();
    member.host = m.host();
    member.subscribed_topics.assign(m.subscribed_topic_names().begin(), m.subscribed_topic_names().end());
    member.subscribed_topic_regex = m.subscribed_topic_regex();
    member.member_epoch = m.member_epoch();
    member.assignment = from_wire(m.assignment());
    member.target_assignment = from_wire(m.target_assignment());
    out.members.push_back(std::move(member));
  }
  return out;
}

// Sends `req` as `api` and parses the response body into `body`.
template <typename Body>
Status call(NetworkClient& net, Api api, const google::protobuf::MessageLite& req, Body& body,
            std::chrono::milliseconds timeout) {
  auto response = net.request(api, serialize_message(req), timeout);
  if (!response) return tl::unexpected(response.error());
  return parse_body(response->body(), body, std::string(api_name(api)) + "Response");
}

}  // namespace

Result<std::vector<GroupListing>> Admin::list_groups(const std::vector<std::string>& states) {
  wire::ListGroupsRequest req;
  for (const std::string& s : states) req.add_states_filter(s);
  wire::ListGroupsResponse body;
  if (auto s = call(*impl_->net, Api::list_groups, req, body, impl_->timeout()); !s) return tl::unexpected(s.error());
  if (failed(body.error())) return tl::unexpected(error_of(body.error()));
  std::vector<GroupListing> out;
  for (const auto& g : body.groups()) out.push_back({g.group_id(), g.state(), g.protocol_type(), g.members()});
  return out;
}

Result<std::vector<Result<GroupDescription>>> Admin::describe_groups(const std::vector<std::string>& ids) {
  std::vector<Result<GroupDescription>> out;
  if (ids.empty()) return out;
  wire::DescribeGroupsRequest req;
  for (const std::string& id : ids) req.add_group_ids(id);
  wire::DescribeGroupsResponse body;
  if (auto s = call(*impl_->net, Api::describe_groups, req, body, impl_->timeout()); !s) {
    return tl::unexpected(s.error());
  }
  for (const std::string& id : ids) {
    auto it =
        std::find_if(body.groups().begin(), body.groups().end(), [&](const auto& g) { return g.group_id() == id; });
    if (it == body.groups().end()) {
      out.emplace_back(tl::unexpected(
          client_error(ErrorCode::protocol_error, "DescribeGroups response has no result for \"" + id + "\"")));
    } else if (failed(it->error())) {
      out.emplace_back(tl::unexpected(error_of(it->error())));
    } else {
      out.emplace_back(from_wire(*it));
    }
  }
  return out;
}

Result<std::vector<GroupStatus>> Admin::delete_groups(const std::vector<std::string>& ids) {
  wire::DeleteGroupsRequest req;
  for (const std::string& id : ids) req.add_group_ids(id);
  wire::DeleteGroupsResponse body;
  if (auto s = call(*impl_->net, Api::delete_groups, req, body, impl_->timeout()); !s) return tl::unexpected(s.error());
  std::vector<GroupStatus> out;
  for (const std::string& id : ids) {
    auto it =
        std::find_if(body.results().begin(), body.results().end(), [&](const auto& r) { return r.group_id() == id; });
    GroupStatus gs{id, {}};
    if (it == body.results().end()) {
      gs.status = tl::unexpected(
          client_error(ErrorCode::protocol_error, "DeleteGroups response has no result for \"" + id + "\""));
    } else if (failed(it->error())) {
      gs.status = tl::unexpected(error_of(it->error()));
    }
    out.push_back(std::move(gs));
  }
  return out;
}

Result<std::map<TopicPartition, Status>> Admin::alter_group_offsets(const std::string& group,
                                                                    const std::map<TopicPartition, int64_t>& offsets) {
  std::map<TopicPartition, OffsetAndMetadata> commits;
  for (const auto& [tp, offset] : offsets) commits[tp] = OffsetAndMetadata{offset, ""};
  return commit_offsets(*impl_->net, group, commits, impl_->timeout());
}

Result<std::vector<GroupPartitionOffsets>> Admin::describe_group_offsets(const std::string& group) {
  wire::DescribeGroupOffsetsRequest req;
  req.set_group_id(group);
  wire::DescribeGroupOffsetsResponse body;
  if (auto s = call(*impl_->net, Api::describe_group_offsets, req, body, impl_->timeout()); !s) {
    return tl::unexpected(s.error());
  }
  if (failed(body.error())) return tl::unexpected(error_of(body.error()));
  std::vector<GroupPartitionOffsets> out;
  for (const auto& p : body.partitions()) {
    GroupPartitionOffsets o;
    o.partition = {p.topic(), p.partition()};
    if (failed(p.error())) o.status = tl::unexpected(error_of(p.error()));
    if (p.committed_offset() >= 0) o.committed = p.committed_offset();
    o.log_end_offset = p.log_end_offset();
    if (p.lag() >= 0) o.lag = p.lag();
    if (p.lag_seconds() >= 0) o.lag_seconds = p.lag_seconds();
    o.member_id = p.member_id();
    o.client_id = p.client_id();
    o.host = p.host();
    out.push_back(std::move(o));
  }
  return out;
}

}  // namespace sluice::client
