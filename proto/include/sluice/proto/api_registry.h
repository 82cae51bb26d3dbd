// The one list of the native protocol's APIs. Everything that names an API is
// derived from it: the wire keys (wire::ApiKey), the client's Api enum and names,
// the broker's dispatch table, its metric labels and the ApiVersions response.
//
// Adding an API is three steps:
//   1. the messages in proto/sluice.proto: <Message>Request and <Message>Response;
//   2. an entry below (the key is never reused: clients and brokers of other
//      versions read it);
//   3. a handler file in broker/src/handlers/ defining
//      asio::awaitable<Response> handle_<id>(BrokerState&, Request).
// A missing message fails the build (api_messages.h), a missing handler the link.
//
// Columns of each X(id, KEY, Message, key, min_version, max_version):
//   id           lower_case name: client::Api::<id>, the broker's handle_<id> and
//                its metric label "<id>";
//   KEY          the wire::ApiKey enumerator (the name Kafka uses, in proto style);
//   Message      prefix of the proto messages and the display name ("Produce");
//   key          the number carried in RequestHeader.api;
//   min/max      the versions the broker accepts (ApiVersions reports them).
// Thread-safety: constants only.
#pragma once

#include <cstdint>
#include <string_view>

// clang-format off
#define SLUICE_APIS(X)                                               \
  X(produce,          PRODUCE,          Produce,         1, 0, 0)    \
  X(fetch,            FETCH,            Fetch,           2, 0, 0)    \
  X(list_offsets,     LIST_OFFSETS,     ListOffsets,     3, 0, 0)    \
  X(metadata,         METADATA,         Metadata,        4, 0, 0)    \
  X(create_topics,    CREATE_TOPICS,    CreateTopics,    5, 0, 0)    \
  X(delete_topics,    DELETE_TOPICS,    DeleteTopics,    6, 0, 0)    \
  X(api_versions,     API_VERSIONS,     ApiVersions,     7, 0, 0)    \
  X(init_producer_id, INIT_PRODUCER_ID, InitProducerId,  8, 0, 0)    \
  X(offset_commit,    OFFSET_COMMIT,    OffsetCommit,    9, 0, 0)    \
  X(offset_fetch,     OFFSET_FETCH,     OffsetFetch,    10, 0, 0)    \
  X(consumer_group_heartbeat, CONSUMER_GROUP_HEARTBEAT, ConsumerGroupHeartbeat, 11, 0, 0) \
  X(list_groups,      LIST_GROUPS,      ListGroups,     12, 0, 0)    \
  X(describe_groups,  DESCRIBE_GROUPS,  DescribeGroups, 13, 0, 0)    \
  X(delete_groups,    DELETE_GROUPS,    DeleteGroups,   14, 0, 0)    \
  X(describe_group_offsets, DESCRIBE_GROUP_OFFSETS, DescribeGroupOffsets, 15, 0, 0) \
  X(alter_configs,    ALTER_CONFIGS,    AlterConfigs,   16, 0, 0)
// clang-format on

namespace sluice::wire {

// The keys on the wire. Unscoped, with the proto's naming, so that a key reads
// like the generated enums beside it (wire::PRODUCE, wire::NONE).
// NOLINTBEGIN(readability-identifier-naming)
enum ApiKey : int32_t {
  API_UNSPECIFIED = 0,
#define SLUICE_API_KEY(id, KEY, Message, key, min_version, max_version) KEY = (key),
  SLUICE_APIS(SLUICE_API_KEY)
#undef SLUICE_API_KEY
};
// NOLINTEND(readability-identifier-naming)

struct ApiSpec {
  ApiKey key;
  std::string_view id;    // "produce": metric label
  std::string_view name;  // "Produce": for people
  uint32_t min_version;
  uint32_t max_version;
};

inline constexpr ApiSpec kApis[] = {
#define SLUICE_API_SPEC(id, KEY, Message, key, min_version, max_version) {KEY, #id, #Message, min_version, max_version},
    SLUICE_APIS(SLUICE_API_SPEC)
#undef SLUICE_API_SPEC
};

// One past the largest key: tables indexed by key have this many slots.
inline constexpr int32_t kApiKeyLimit = [] {
  int32_t limit = 0;
  for (const ApiSpec& api : kApis) limit = api.key >= limit ? api.key + 1 : limit;
  return limit;
}();

static_assert(
    [] {
      for (const ApiSpec& a : kApis) {
        if (a.key <= 0 || a.min_version > a.max_version) return false;
        for (const ApiSpec& b : kApis) {
          if (&a != &b && (a.key == b.key || a.id == b.id)) return false;
        }
      }
      return true;
    }(),
    "every API needs its own positive key and id, and min_version <= max_version");

// The API with this key, or null.
constexpr const ApiSpec* find_api(int32_t key) {
  for (const ApiSpec& api : kApis) {
    if (api.key == key) return &api;
  }
  return nullptr;
}

}  // namespace sluice::wire
