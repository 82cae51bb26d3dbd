#include "sluice/client/list_offsets.h"

#include <map>

#include "sluice.pb.h"
#include "sluice/client/client_errors.h"
#include "sluice/client/wire_error.h"

namespace sluice::client {
namespace {
constexpr int64_t kLatest = -1;
constexpr int64_t kEarliest = -2;
}  // namespace

Result<std::vector<Result<ListedOffset>>> list_offsets(NetworkClient& net, const std::vector<OffsetQuery>& queries,
                                                       std::chrono::milliseconds timeout) {
  wire::ListOffsetsRequest req;
  for (const OffsetQuery& q : queries) {
    if (q.spec.kind == OffsetSpec::Kind::timestamp && q.spec.timestamp_ms < 0) {
      return make_error(Errc::invalid_argument, "ListOffsets timestamp must be >= 0, got " +
                                                    std::to_string(q.spec.timestamp_ms));
    }
    auto* p = req.add_partitions();
    p->set_topic(q.partition.topic);
    p->set_partition(q.partition.partition);
    p->set_timestamp(q.spec.kind == OffsetSpec::Kind::earliest ? kEarliest
                     : q.spec.kind == OffsetSpec::Kind::latest ? kLatest
                                                               : q.spec.timestamp_ms);
  }
  auto response = net.request(Api::list_offsets, serialize_message(req), timeout);
  if (!response) return tl::unexpected(response.error());
  wire::ListOffsetsResponse body;
  if (auto s = parse_body(response->body(), body, "ListOffsetsResponse"); !s) return tl::unexpected(s.error());

  std::map<TopicPartition, const wire::ListOffsetsResponse::PartitionOffset*> by_partition;
  for (const auto& r : body.results()) by_partition[TopicPartition{r.topic(), r.partition()}] = &r;
  std::vector<Result<ListedOffset>> out;
  out.reserve(queries.size());
  for (const OffsetQuery& q : queries) {
    auto it = by_partition.find(q.partition);
    if (it == by_partition.end()) {
      out.push_back(tl::unexpected(client_error(Errc::corrupt_data, reason::kProtocolError,
                                                "ListOffsets response has no result for " + q.partition.to_string())));
      continue;
    }
    const auto& r = *it->second;
    if (r.has_error() && r.error().code() != wire::NONE) {
      out.push_back(tl::unexpected(wire_error(r.error().code(), r.error().message())));
    } else {
      out.push_back(ListedOffset{q.partition, r.offset(), r.timestamp()});
    }
  }
  return out;
}

}  // namespace sluice::client
