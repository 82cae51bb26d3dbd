// The API registry seen from the wire: ApiVersions reports exactly the registry's
// APIs and versions, every API in it is dispatched to a handler, and keys or
// versions outside it are refused.
#include "sluice/proto/api_registry.h"

#include <gtest/gtest.h>

#include <set>

#include "sluice/broker/embedded_broker.h"

#include "raw_client.h"

namespace sluice::broker {
namespace {

using sluice::testing::EmbeddedBroker;
using sluice::testing::RawClient;

TEST(ApiRegistry, ApiVersionsListsEveryRegisteredApiWithItsVersions) {
  EmbeddedBroker broker;
  RawClient c(broker.bootstrap());
  auto resp = c.call<wire::ApiVersionsResponse>(wire::API_VERSIONS, wire::ApiVersionsRequest{});
  ASSERT_TRUE(resp);
  ASSERT_EQ(resp->apis_size(), static_cast<int>(std::size(wire::kApis)));
  std::set<int32_t> seen;
  for (const auto& v : resp->apis()) {
    const wire::ApiSpec* spec = wire::find_api(v.api());
    ASSERT_NE(spec, nullptr) << "key " << v.api();
    EXPECT_EQ(v.min_version(), spec->min_version) << spec->name;
    EXPECT_EQ(v.max_version(), spec->max_version) << spec->name;
    EXPECT_TRUE(seen.insert(v.api()).second) << spec->name << " listed twice";
  }
}

TEST(ApiRegistry, EveryRegisteredApiIsAnsweredByItsHandler) {
  EmbeddedBroker broker;
  RawClient c(broker.bootstrap());
  uint64_t correlation_id = 1;
  wire::ProduceRequest acked;  // an empty produce with acks=0 gets no response
  acked.set_acks(1);
  wire::ApiVersionsRequest empty;
  for (const wire::ApiSpec& spec : wire::kApis) {
    // An empty body is a valid request of every other API (no topics, no partitions).
    const google::protobuf::MessageLite& body =
        spec.key == wire::PRODUCE ? static_cast<const google::protobuf::MessageLite&>(acked) : empty;
    ASSERT_TRUE(c.send_request(spec.key, correlation_id, body, {}, spec.max_version));
    auto reply = c.read_reply();
    ASSERT_TRUE(reply) << spec.name;
    EXPECT_EQ(reply->header.correlation_id(), correlation_id) << spec.name;
    EXPECT_EQ(reply->header.error().code(), wire::NONE) << spec.name << ": " << reply->header.error().message();
    ++correlation_id;
  }
}

TEST(ApiRegistry, KeysOutsideTheRegistryAreUnsupportedApis) {
  EmbeddedBroker broker;
  RawClient c(broker.bootstrap());
  for (int32_t key : {0, -1, wire::kApiKeyLimit, 1 << 20}) {
    ASSERT_TRUE(c.send_request(static_cast<wire::ApiKey>(key), 1, wire::MetadataRequest{}));
    auto reply = c.read_reply();
    ASSERT_TRUE(reply) << key;
    EXPECT_EQ(reply->header.error().code(), wire::UNSUPPORTED_API) << key;
  }
}

TEST(ApiRegistry, VersionsAboveTheRangeAreUnsupported) {
  EmbeddedBroker broker;
  RawClient c(broker.bootstrap());
  for (const wire::ApiSpec& spec : wire::kApis) {
    ASSERT_TRUE(c.send_request(spec.key, 1, wire::ApiVersionsRequest{}, {}, spec.max_version + 1));
    auto reply = c.read_reply();
    ASSERT_TRUE(reply) << spec.name;
    EXPECT_EQ(reply->header.error().code(), wire::UNSUPPORTED_VERSION) << spec.name;
  }
}

TEST(ApiRegistry, TableIsIndexedByKey) {
  EXPECT_EQ(wire::find_api(wire::PRODUCE)->name, "Produce");
  EXPECT_EQ(wire::find_api(wire::PRODUCE)->id, "produce");
  EXPECT_EQ(wire::find_api(wire::INIT_PRODUCER_ID)->name, "InitProducerId");
  EXPECT_EQ(wire::find_api(0), nullptr);
  EXPECT_EQ(wire::find_api(wire::kApiKeyLimit), nullptr);
}

}  // namespace
}  // namespace sluice::broker
