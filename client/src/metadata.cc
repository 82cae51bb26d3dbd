#include "sluice/client/metadata.h"

#include <algorithm>

#include "sluice/client/wire_error.h"

#include "sluice.pb.h"

namespace sluice::client {
namespace {

Bytes metadata_request(const std::vector<std::string>& topics, InternalTopics internal = InternalTopics::exclude) {
  wire::MetadataRequest req;
  for (const auto& t : topics) req.add_topics(t);
  req.set_include_internal(internal == InternalTopics::include);
  return serialize_message(req);
}

Result<ClusterMetadata> decode(Result<Response> response) {
  if (!response) return tl::unexpected(response.error());
  wire::MetadataResponse body;
  if (auto s = parse_body(response->body(), body, "MetadataResponse"); !s) return tl::unexpected(s.error());
  ClusterMetadata out;
  out.broker = HostPort{body.broker_host(), static_cast<uint16_t>(body.broker_port())};
  for (const auto& t : body.topics()) {
    TopicMetadata tm{t.name(), TopicDescription{}};
    if (t.has_error() && t.error().code() != wire::NONE) {
      tm.description = tl::unexpected(wire_error(t.error().code(), t.error().message()));
    } else {
      TopicDescription& d = *tm.description;
      d.name = t.name();
      for (const auto& p : t.partitions()) {
        d.partitions.push_back(PartitionInfo{p.partition(), p.log_start_offset(), p.log_end_offset(), p.compacts(),
                                             p.dirty_ratio(), p.compacts() ? p.last_clean_ms() : -1});
      }
      std::sort(d.partitions.begin(), d.partitions.end(),
                [](const PartitionInfo& a, const PartitionInfo& b) { return a.partition < b.partition; });
      d.configs.insert(t.configs().begin(), t.configs().end());
    }
    out.topics.push_back(std::move(tm));
  }
  return out;
}

}  // namespace

Result<ClusterMetadata> fetch_metadata(NetworkClient& net, const std::vector<std::string>& topics,
                                       std::chrono::milliseconds timeout, InternalTopics internal) {
  return decode(net.request(Api::metadata, metadata_request(topics, internal), timeout));
}

void fetch_metadata_async(NetworkClient& net, const std::vector<std::string>& topics, std::chrono::milliseconds timeout,
                          std::function<void(Result<ClusterMetadata>)> done) {
  OutgoingRequest req;
  req.api = Api::metadata;
  req.body = metadata_request(topics);
  req.timeout = timeout;
  req.on_done = [done = std::move(done)](Result<Response> r) { done(decode(std::move(r))); };
  net.send(std::move(req));
}

}  // namespace sluice::client
