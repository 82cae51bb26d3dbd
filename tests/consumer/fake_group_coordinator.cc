#include "fake_group_coordinator.h"

#include <algorithm>

namespace sluice::testing {

namespace {
template <typename Message>
Message parse(const FakeBroker::Request& request) {
  Message m;
  m.ParseFromArray(request.body.data(), static_cast<int>(request.body.size()));
  return m;
}
}  // namespace

void FakeGroupCoordinator::set_script(Script script) {
  std::lock_guard lock(mutex_);
  script_ = std::move(script);
}

void FakeGroupCoordinator::refuse_commits(const client::TopicPartition& tp, wire::ErrorCode code) {
  std::lock_guard lock(mutex_);
  refused_[tp] = code;
}

void FakeGroupCoordinator::delay_commits(std::chrono::milliseconds delay) {
  std::lock_guard lock(mutex_);
  commit_delay_ = delay;
}

FakeBroker::Reply FakeGroupCoordinator::handle(const FakeBroker::Request& request) {
  switch (request.header.api()) {
    case wire::CONSUMER_GROUP_HEARTBEAT: return heartbeat(request);
    case wire::OFFSET_COMMIT: return offset_commit(request);
    case wire::OFFSET_FETCH: return offset_fetch(request);
    default: return log_.handle(request);
  }
}

FakeBroker::Reply FakeGroupCoordinator::heartbeat(const FakeBroker::Request& request) {
  auto req = parse<wire::ConsumerGroupHeartbeatRequest>(request);
  std::lock_guard lock(mutex_);
  events_.push_back(Event{req, std::nullopt});
  if (!script_) return FakeBroker::Reply::header_failure(wire::UNSUPPORTED_API, "no heartbeat script");
  return FakeBroker::Reply::with(script_(req));
}

FakeBroker::Reply FakeGroupCoordinator::offset_commit(const FakeBroker::Request& request) {
  auto req = parse<wire::OffsetCommitRequest>(request);
  wire::OffsetCommitResponse resp;
  std::lock_guard lock(mutex_);
  Commit commit{req.member_id(), req.member_epoch(), {}};
  for (const auto& p : req.partitions()) {
    client::TopicPartition tp{p.topic(), p.partition()};
    commit.offsets[tp] = p.offset();
    auto* r = resp.add_results();
    r->set_topic(p.topic());
    r->set_partition(p.partition());
    auto refused = refused_.find(tp);
    if (refused != refused_.end() && refused->second != wire::NONE) {
      r->mutable_error()->set_code(refused->second);
      r->mutable_error()->set_message("fake coordinator refuses " + tp.to_string());
      continue;
    }
    committed_[tp] = p.offset();
  }
  events_.push_back(Event{std::nullopt, std::move(commit)});
  FakeBroker::Reply reply = FakeBroker::Reply::with(resp);
  reply.delay = commit_delay_;
  return reply;
}

FakeBroker::Reply FakeGroupCoordinator::offset_fetch(const FakeBroker::Request& request) {
  auto req = parse<wire::OffsetFetchRequest>(request);
  wire::OffsetFetchResponse resp;
  std::lock_guard lock(mutex_);
  for (const auto& p : req.partitions()) {
    auto* r = resp.add_results();
    r->set_topic(p.topic());
    r->set_partition(p.partition());
    auto it = committed_.find(client::TopicPartition{p.topic(), p.partition()});
    r->set_offset(it == committed_.end() ? -1 : it->second);
  }
  return FakeBroker::Reply::with(resp);
}

std::vector<FakeGroupCoordinator::Event> FakeGroupCoordinator::events() const {
  std::lock_guard lock(mutex_);
  return events_;
}

std::vector<wire::ConsumerGroupHeartbeatRequest> FakeGroupCoordinator::heartbeats() const {
  std::vector<wire::ConsumerGroupHeartbeatRequest> out;
  for (const Event& e : events()) {
    if (e.heartbeat) out.push_back(*e.heartbeat);
  }
  return out;
}

std::vector<FakeGroupCoordinator::Commit> FakeGroupCoordinator::commits() const {
  std::vector<Commit> out;
  for (const Event& e : events()) {
    if (e.commit) out.push_back(*e.commit);
  }
  return out;
}

std::vector<client::TopicPartition> FakeGroupCoordinator::partitions_of(
    const wire::ConsumerGroupHeartbeatRequest::Assignment& assignment) {
  std::vector<client::TopicPartition> out;
  for (const auto& t : assignment.topics()) {
    for (int32_t p : t.partitions()) out.push_back(client::TopicPartition{t.topic(), p});
  }
  std::sort(out.begin(), out.end());
  return out;
}

void FakeGroupCoordinator::set_partitions(wire::ConsumerGroupHeartbeatRequest::Assignment* out,
                                          const std::vector<client::TopicPartition>& partitions) {
  out->Clear();
  for (const auto& tp : partitions) {
    auto* t = out->add_topics();
    t->set_topic(tp.topic);
    t->add_partitions(tp.partition);
  }
}

}  // namespace sluice::testing
