#include "fake_fetch_log.h"

#include <algorithm>
#include <string>

#include "sluice/storage/batch_builder.h"
#include "sluice/storage/record_batch.h"

namespace sluice::testing {

namespace {
constexpr int64_t kLatest = -1;
constexpr int64_t kEarliest = -2;
constexpr std::chrono::milliseconds kEmptyFetchDelay{5};
}  // namespace

void FakeFetchLog::add_partition(const client::TopicPartition& tp) {
  std::lock_guard lock(mutex_);
  partitions_[tp];
}

int64_t FakeFetchLog::append(const client::TopicPartition& tp, int count) {
  std::lock_guard lock(mutex_);
  Partition& p = partitions_.at(tp);
  storage::BatchBuilder builder;
  for (int i = 0; i < count; ++i) {
    std::string value = "v" + std::to_string(p.log_end + i);
    builder.add(1000 + p.log_end + i, std::nullopt, as_bytes(value), {});
  }
  auto bytes = builder.build();
  if (!bytes) throw std::runtime_error("fake fetch log: " + bytes.error().to_string());
  storage::stamp_base_offset(*bytes, Offset(p.log_end));
  const int64_t base = p.log_end;
  p.batches.push_back(Batch{base, base + count - 1, std::move(*bytes)});
  p.log_end += count;
  return base;
}

void FakeFetchLog::advance_log_start(const client::TopicPartition& tp, int64_t offset) {
  std::lock_guard lock(mutex_);
  Partition& p = partitions_.at(tp);
  std::erase_if(p.batches, [&](const Batch& b) { return b.last_offset < offset; });
  p.log_start = offset;
}

void FakeFetchLog::fail_fetches(const client::TopicPartition& tp, wire::ErrorCode code) {
  std::lock_guard lock(mutex_);
  partitions_.at(tp).error = code;
}

std::vector<std::vector<FakeFetchLog::FetchAsk>> FakeFetchLog::fetches() const {
  std::lock_guard lock(mutex_);
  return fetches_;
}

FakeBroker::Reply FakeFetchLog::handle(const FakeBroker::Request& request) {
  switch (request.header.api()) {
    case wire::LIST_OFFSETS: return list_offsets(request);
    case wire::FETCH: return fetch(request);
    default: return FakeBroker::Reply::header_failure(wire::UNSUPPORTED_API, "fake fetch log");
  }
}

FakeBroker::Reply FakeFetchLog::list_offsets(const FakeBroker::Request& request) {
  wire::ListOffsetsRequest req;
  req.ParseFromArray(request.body.data(), static_cast<int>(request.body.size()));
  wire::ListOffsetsResponse resp;
  std::lock_guard lock(mutex_);
  for (const auto& q : req.partitions()) {
    auto* r = resp.add_results();
    r->set_topic(q.topic());
    r->set_partition(q.partition());
    auto it = partitions_.find(client::TopicPartition{q.topic(), q.partition()});
    if (it == partitions_.end()) {
      r->mutable_error()->set_code(wire::UNKNOWN_TOPIC_OR_PARTITION);
      r->mutable_error()->set_message("no such partition");
      continue;
    }
    if (q.timestamp() == kEarliest) {
      r->set_offset(it->second.log_start);
    } else if (q.timestamp() == kLatest) {
      r->set_offset(it->second.log_end);
    } else {
      r->set_offset(-1);  // timestamps are not served here
    }
  }
  return FakeBroker::Reply::with(resp);
}

FakeBroker::Reply FakeFetchLog::fetch(const FakeBroker::Request& request) {
  wire::FetchRequest req;
  req.ParseFromArray(request.body.data(), static_cast<int>(request.body.size()));
  wire::FetchResponse resp;
  Bytes records;
  std::lock_guard lock(mutex_);
  auto& asked = fetches_.emplace_back();
  watches_.push_back(req.group_member());
  const bool prompt = prompt_heartbeat_ && req.has_group_member();
  if (prompt) {
    prompt_heartbeat_ = false;
    resp.set_heartbeat_now(true);
  }
  for (const auto& fp : req.partitions()) {
    client::TopicPartition tp{fp.topic(), fp.partition()};
    asked.push_back(FetchAsk{tp, fp.fetch_offset()});
    auto* pd = resp.add_partitions();
    pd->set_topic(fp.topic());
    pd->set_partition(fp.partition());
    auto it = partitions_.find(tp);
    auto fail = [&](wire::ErrorCode code) {
      pd->mutable_error()->set_code(code);
      pd->mutable_error()->set_message("fake fetch log");
    };
    if (it == partitions_.end()) {
      fail(wire::UNKNOWN_TOPIC_OR_PARTITION);
      continue;
    }
    const Partition& p = it->second;
    pd->set_high_watermark(p.log_end);
    pd->set_log_start_offset(p.log_start);
    if (p.error != wire::NONE) {
      fail(p.error);
      continue;
    }
    if (fp.fetch_offset() < p.log_start || fp.fetch_offset() > p.log_end) {
      fail(wire::OFFSET_OUT_OF_RANGE);
      continue;
    }
    size_t size = 0;
    for (const Batch& b : p.batches) {
      if (b.last_offset < fp.fetch_offset()) continue;
      if (size > 0 && size + b.bytes.size() > static_cast<size_t>(fp.partition_max_bytes())) break;
      records.insert(records.end(), b.bytes.begin(), b.bytes.end());
      size += b.bytes.size();
    }
    pd->set_records_size(static_cast<uint32_t>(size));
  }
  FakeBroker::Reply reply = FakeBroker::Reply::with(resp);
  if (records.empty() && !prompt) reply.delay = kEmptyFetchDelay;
  reply.records = std::move(records);
  return reply;
}

void FakeFetchLog::prompt_heartbeat() {
  std::lock_guard lock(mutex_);
  prompt_heartbeat_ = true;
}

std::vector<wire::FetchRequest::GroupMember> FakeFetchLog::watches() const {
  std::lock_guard lock(mutex_);
  return watches_;
}

}  // namespace sluice::testing
