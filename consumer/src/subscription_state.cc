#include "subscription_state.h"

namespace sluice::consumer {

void SubscriptionState::assign(const std::vector<TopicPartition>& partitions) {
  std::map<TopicPartition, PartitionState> next;
  for (const auto& tp : partitions) {
    auto it = partitions_.find(tp);
    if (it != partitions_.end()) {
      next.emplace(tp, it->second);
    } else {
      next.emplace(tp, PartitionState{std::nullopt, next_epoch_++, false});
    }
  }
  partitions_ = std::move(next);
}

std::vector<TopicPartition> SubscriptionState::assignment() const {
  std::vector<TopicPartition> out;
  out.reserve(partitions_.size());
  for (const auto& [tp, s] : partitions_) out.push_back(tp);
  return out;
}

const SubscriptionState::PartitionState* SubscriptionState::find(const TopicPartition& tp) const {
  auto it = partitions_.find(tp);
  return it == partitions_.end() ? nullptr : &it->second;
}

const SubscriptionState::PartitionState* SubscriptionState::current(const TopicPartition& tp, uint64_t epoch) const {
  const PartitionState* s = find(tp);
  return s && s->epoch == epoch ? s : nullptr;
}

void SubscriptionState::seek(const TopicPartition& tp, std::optional<int64_t> offset) {
  PartitionState& s = partitions_.at(tp);
  s.position = offset;
  s.epoch = next_epoch_++;
}

void SubscriptionState::advance_position(const TopicPartition& tp, uint64_t epoch, int64_t offset) {
  auto it = partitions_.find(tp);
  if (it == partitions_.end() || it->second.epoch != epoch || !it->second.position) return;
  it->second.position = offset;
}

Status SubscriptionState::require_assigned(const std::vector<TopicPartition>& partitions) const {
  for (const auto& tp : partitions) {
    if (!partitions_.contains(tp)) return make_error(Errc::invalid_argument, tp.to_string() + " is not assigned");
  }
  return {};
}

Result<std::vector<TopicPartition>> SubscriptionState::assigned_or_all(
    const std::vector<TopicPartition>& partitions) const {
  if (partitions.empty()) return assignment();
  if (auto s = require_assigned(partitions); !s) return tl::unexpected(s.error());
  return partitions;
}

std::vector<TopicPartition> SubscriptionState::missing_positions() const {
  std::vector<TopicPartition> out;
  for (const auto& [tp, s] : partitions_) {
    if (!s.position) out.push_back(tp);
  }
  return out;
}

void SubscriptionState::pause(const std::vector<TopicPartition>& partitions) {
  for (const auto& tp : partitions) partitions_.at(tp).paused = true;
}

void SubscriptionState::resume(const std::vector<TopicPartition>& partitions) {
  for (const auto& tp : partitions) partitions_.at(tp).paused = false;
}

std::vector<TopicPartition> SubscriptionState::paused() const {
  std::vector<TopicPartition> out;
  for (const auto& [tp, s] : partitions_) {
    if (s.paused) out.push_back(tp);
  }
  return out;
}

bool SubscriptionState::is_paused(const TopicPartition& tp) const {
  const PartitionState* s = find(tp);
  return s && s->paused;
}

}  // namespace sluice::consumer
