#include "sluice/client/group_offsets.h"

#include "sluice/client/client_errors.h"
#include "sluice/client/wire_error.h"

#include "sluice.pb.h"

namespace sluice::client {
namespace {
bool failed(const wire::Error& error) { return error.code() != wire::NONE; }
}  // namespace

Result<std::map<TopicPartition, Status>> commit_offsets(NetworkClient& net, const std::string& group,
                                                        const std::map<TopicPartition, OffsetAndMetadata>& offsets,
                                                        std::chrono::milliseconds timeout, const CommitMember& member) {
  wire::OffsetCommitRequest req;
  req.set_group_id(group);
  req.set_member_id(member.member_id);
  req.set_member_epoch(member.member_epoch);
  for (const auto& [tp, om] : offsets) {
    auto* p = req.add_partitions();
    p->set_topic(tp.topic);
    p->set_partition(tp.partition);
    p->set_offset(om.offset);
    p->set_metadata(om.metadata);
  }
  auto response = net.request(Api::offset_commit, serialize_message(req), timeout);
  if (!response) return tl::unexpected(response.error());
  wire::OffsetCommitResponse body;
  if (auto s = parse_body(response->body(), body, "OffsetCommitResponse"); !s) return tl::unexpected(s.error());
  std::map<TopicPartition, Status> out;
  for (const auto& r : body.results()) {
    TopicPartition tp{r.topic(), r.partition()};
    if (!offsets.contains(tp)) continue;
    out[tp] = failed(r.error()) ? Status(tl::unexpected(wire_error(r.error().code(), r.error().message()))) : Status{};
  }
  for (const auto& [tp, om] : offsets) {
    if (!out.contains(tp)) {
      out[tp] = tl::unexpected(
          client_error(ErrorCode::protocol_error, "OffsetCommit response has no result for " + tp.to_string()));
    }
  }
  return out;
}

Result<std::map<TopicPartition, OffsetAndMetadata>> fetch_committed_offsets(
    NetworkClient& net, const std::string& group, const std::vector<TopicPartition>& partitions,
    std::chrono::milliseconds timeout) {
  wire::OffsetFetchRequest req;
  req.set_group_id(group);
  for (const TopicPartition& tp : partitions) {
    auto* p = req.add_partitions();
    p->set_topic(tp.topic);
    p->set_partition(tp.partition);
  }
  auto response = net.request(Api::offset_fetch, serialize_message(req), timeout);
  if (!response) return tl::unexpected(response.error());
  wire::OffsetFetchResponse body;
  if (auto s = parse_body(response->body(), body, "OffsetFetchResponse"); !s) return tl::unexpected(s.error());
  if (failed(body.error())) return tl::unexpected(wire_error(body.error().code(), body.error().message()));
  std::map<TopicPartition, OffsetAndMetadata> out;
  for (const auto& r : body.results()) {
    if (failed(r.error())) return tl::unexpected(wire_error(r.error().code(), r.error().message()));
    out[TopicPartition{r.topic(), r.partition()}] = OffsetAndMetadata{r.offset(), r.metadata()};
  }
  return out;
}

}  // namespace sluice::client
