#include "sluice/client/list_offsets.h"

#include "sluice/client/client_errors.h"
#include "sluice/client/wire_error.h"

#include "sluice.pb.h"

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
      return make_error(Errc::invalid_argument,
                        "ListOffsets timestamp must be >= 0, got " + std::to_string(q.spec.timestamp_ms));
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

  // The broker answers one result per query, in query order, so two queries for the
  // same partition (earliest and latest, say) each get their own answer.
  std::vector<Result<ListedOffset>> out;
  out.reserve(queries.size());
  for (size_t i = 0; i < queries.size(); ++i) {
    const OffsetQuery& q = queries[i];
    if (i >= static_cast<size_t>(body.results_size()) ||
        body.results(static_cast<int>(i)).topic() != q.partition.topic ||
        body.results(static_cast<int>(i)).partition() != q.partition.partition) {
      out.push_back(tl::unexpected(client_error(ErrorCode::protocol_error,
                                                "ListOffsets response has no result for " + q.partition.to_string())));
      continue;
    }
    const auto& r = body.results(static_cast<int>(i));
    if (r.has_error() && r.error().code() != wire::NONE) {
      out.push_back(tl::unexpected(wire_error(r.error().code(), r.error().message())));
    } else {
      out.push_back(ListedOffset{q.partition, r.offset(), r.timestamp()});
    }
  }
  return out;
}

}  // namespace sluice::client
