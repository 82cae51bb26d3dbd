#include "offset_commits.h"

#include "commit_queue.h"

namespace sluice::consumer {

OffsetCommits::OffsetCommits(client::NetworkClient& net, const SubscriptionState& subscriptions, std::string group_id,
                             std::chrono::milliseconds timeout)
    : net_(net),
      subscriptions_(subscriptions),
      group_id_(std::move(group_id)),
      timeout_(timeout),
      queue_(std::make_unique<CommitQueue>(*this)) {}

OffsetCommits::~OffsetCommits() = default;

Status OffsetCommits::require_group() const {
  if (has_group()) return {};
  return make_error(Errc::invalid_argument, "commits need a group_id in the consumer config");
}

std::map<TopicPartition, OffsetAndMetadata> OffsetCommits::positions() const {
  std::map<TopicPartition, OffsetAndMetadata> offsets;
  for (const auto& [tp, state] : subscriptions_.partitions()) {
    if (state.position) offsets[tp] = OffsetAndMetadata{*state.position, ""};
  }
  return offsets;
}

Status OffsetCommits::commit(const std::map<TopicPartition, OffsetAndMetadata>& offsets) {
  queue_->wait_idle();  // an older asynchronous commit must not land after this one
  return commit_as(member_, offsets);
}

void OffsetCommits::commit_async(std::map<TopicPartition, OffsetAndMetadata> offsets, CommitCallback callback) {
  queue_->submit(std::move(offsets), member_, std::move(callback));
}

void OffsetCommits::run_callbacks() { queue_->run_callbacks(); }

void OffsetCommits::flush() {
  queue_->wait_idle();
  queue_->run_callbacks();
}

Status OffsetCommits::commit_as(const client::CommitMember& member,
                                const std::map<TopicPartition, OffsetAndMetadata>& offsets) const {
  if (auto s = require_group(); !s) return s;
  if (offsets.empty()) return {};
  auto results = client::commit_offsets(net_, group_id_, offsets, timeout_, member);
  if (!results) return tl::unexpected(results.error());
  for (const auto& [tp, status] : *results) {
    if (!status)
      return tl::unexpected(Error{status.error().code, status.error().message + " (" + tp.to_string() + ")"});
  }
  return {};
}

Result<std::map<TopicPartition, OffsetAndMetadata>> OffsetCommits::committed(
    const std::vector<TopicPartition>& partitions) {
  if (auto s = require_group(); !s) return tl::unexpected(s.error());
  return client::fetch_committed_offsets(net_, group_id_, partitions, timeout_);
}

Result<std::map<TopicPartition, int64_t>> OffsetCommits::starting_offsets(
    const std::vector<TopicPartition>& partitions) {
  std::map<TopicPartition, int64_t> out;
  if (!has_group() || partitions.empty()) return out;
  auto committed = client::fetch_committed_offsets(net_, group_id_, partitions, timeout_);
  if (!committed) return tl::unexpected(committed.error());
  for (const auto& [tp, om] : *committed) {
    if (om.offset >= 0) out[tp] = om.offset;
  }
  return out;
}

}  // namespace sluice::consumer
