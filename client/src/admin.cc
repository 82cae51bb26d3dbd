#include "sluice/client/admin.h"

#include <algorithm>
#include <stdexcept>

#include "sluice/client/client_errors.h"
#include "sluice/client/network_client.h"
#include "sluice/client/wire_error.h"

#include "admin_impl.h"
#include "sluice.pb.h"

namespace sluice::client {

namespace {

// Pairs each requested name with its TopicResult, in request order.
template <typename ResponseBody>
std::vector<TopicStatus> topic_statuses(const std::vector<std::string>& names, const ResponseBody& body,
                                        std::string_view api) {
  std::vector<TopicStatus> out;
  out.reserve(names.size());
  for (const std::string& name : names) {
    auto it = std::find_if(body.results().begin(), body.results().end(),
                           [&](const wire::TopicResult& r) { return r.name() == name; });
    TopicStatus ts{name, {}};
    if (it == body.results().end()) {
      ts.status = tl::unexpected(
          client_error(ErrorCode::protocol_error, std::string(api) + " response has no result for \"" + name + "\""));
    } else if (it->has_error() && it->error().code() != wire::NONE) {
      ts.status = tl::unexpected(wire_error(it->error().code(), it->error().message()));
    }
    out.push_back(std::move(ts));
  }
  return out;
}

Status single(Result<std::vector<TopicStatus>> r) {
  if (!r) return tl::unexpected(r.error());
  return r->front().status;
}

}  // namespace

Admin::Admin(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<Admin> Admin::create(AdminConfig config) { return create(std::move(config), SystemSteadyClock::instance()); }

Result<Admin> Admin::create(AdminConfig config, const SteadyClock& clock) {
  if (config.request_timeout_ms <= 0) return make_error(Errc::invalid_argument, "request_timeout_ms must be positive");
  auto net = NetworkClient::create(
      NetworkOptions{.bootstrap = config.bootstrap, .client_id = config.client_id, .clock = &clock});
  if (!net) return tl::unexpected(net.error());
  auto impl = std::make_unique<Impl>();
  impl->config = std::move(config);
  impl->net = std::move(*net);
  return Admin(std::move(impl));
}

Admin::Admin(AdminConfig config) {
  auto a = create(std::move(config));
  if (!a) throw std::invalid_argument("invalid admin config: " + a.error().to_string());
  impl_ = std::move(a->impl_);
}

Admin::Admin(Admin&&) noexcept = default;
Admin& Admin::operator=(Admin&&) noexcept = default;
Admin::~Admin() = default;

Status Admin::create_topic(const std::string& name, int32_t partitions,
                           const std::map<std::string, std::string>& configs) {
  return single(create_topics({NewTopic{name, partitions, configs}}));
}

Result<std::vector<TopicStatus>> Admin::create_topics(const std::vector<NewTopic>& topics) {
  wire::CreateTopicsRequest req;
  std::vector<std::string> names;
  for (const NewTopic& t : topics) {
    auto* nt = req.add_topics();
    nt->set_name(t.name);
    nt->set_partitions(t.partitions);
    nt->mutable_configs()->insert(t.configs.begin(), t.configs.end());
    names.push_back(t.name);
  }
  auto response = impl_->net->request(Api::create_topics, serialize_message(req), impl_->timeout());
  if (!response) return tl::unexpected(response.error());
  wire::CreateTopicsResponse body;
  if (auto s = parse_body(response->body(), body, "CreateTopicsResponse"); !s) return tl::unexpected(s.error());
  return topic_statuses(names, body, "CreateTopics");
}

Status Admin::delete_topic(const std::string& name) { return single(delete_topics({name})); }

Result<std::vector<TopicStatus>> Admin::delete_topics(const std::vector<std::string>& names) {
  wire::DeleteTopicsRequest req;
  for (const auto& n : names) req.add_names(n);
  auto response = impl_->net->request(Api::delete_topics, serialize_message(req), impl_->timeout());
  if (!response) return tl::unexpected(response.error());
  wire::DeleteTopicsResponse body;
  if (auto s = parse_body(response->body(), body, "DeleteTopicsResponse"); !s) return tl::unexpected(s.error());
  return topic_statuses(names, body, "DeleteTopics");
}

Status Admin::alter_topic_config(const std::string& name,
                                 const std::map<std::string, std::optional<std::string>>& changes) {
  wire::AlterConfigsRequest req;
  auto* resource = req.add_resources();
  resource->set_topic(name);
  for (const auto& [key, value] : changes) {
    auto* change = resource->add_changes();
    change->set_name(key);
    if (value) change->set_value(*value);
  }
  auto response = impl_->net->request(Api::alter_configs, serialize_message(req), impl_->timeout());
  if (!response) return tl::unexpected(response.error());
  wire::AlterConfigsResponse body;
  if (auto s = parse_body(response->body(), body, "AlterConfigsResponse"); !s) return tl::unexpected(s.error());
  return single(topic_statuses({name}, body, "AlterConfigs"));
}

Result<std::vector<std::string>> Admin::list_topics(InternalTopics internal) {
  auto metadata = fetch_metadata(*impl_->net, {}, impl_->timeout(), internal);
  if (!metadata) return tl::unexpected(metadata.error());
  std::vector<std::string> names;
  for (const auto& t : metadata->topics) {
    if (t.description) names.push_back(t.name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

Result<TopicDescription> Admin::describe_topic(const std::string& name) {
  auto metadata = fetch_metadata(*impl_->net, {name}, impl_->timeout());
  if (!metadata) return tl::unexpected(metadata.error());
  for (auto& t : metadata->topics) {
    if (t.name == name) return std::move(t.description);
  }
  return tl::unexpected(
      client_error(ErrorCode::protocol_error, "metadata response does not mention topic \"" + name + "\""));
}

Result<ListedOffset> Admin::list_offsets(const std::string& topic, int32_t partition, OffsetSpec spec) {
  auto r = list_offsets({OffsetQuery{TopicPartition{topic, partition}, spec}});
  if (!r) return tl::unexpected(r.error());
  return std::move(r->front());
}

Result<std::vector<Result<ListedOffset>>> Admin::list_offsets(const std::vector<OffsetQuery>& queries) {
  return client::list_offsets(*impl_->net, queries, impl_->timeout());
}

Result<std::map<TopicPartition, OffsetAndMetadata>> Admin::list_consumer_group_offsets(const std::string& group) {
  return fetch_committed_offsets(*impl_->net, group, {}, impl_->timeout());
}

const AdminConfig& Admin::config() const { return impl_->config; }

}  // namespace sluice::client
