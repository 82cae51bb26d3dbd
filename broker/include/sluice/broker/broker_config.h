// Broker settings: embedded defaults, overridden by a TOML file (--config), then by
// command-line flags. `sluiced --help` lists every setting with its default.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sluice/broker/topic_config.h"
#include "sluice/common/error.h"

namespace sluice::broker {

struct HostPort {
  std::string host;
  uint16_t port = 0;
  std::string to_string() const { return host + ":" + std::to_string(port); }
};

// "host:port" with port 0-65535 (0: any free port).
Result<HostPort> parse_host_port(const std::string& text);

struct BrokerConfig {
  std::string data_dir = "./data";
  std::string listen = "127.0.0.1:7400";
  std::string http = "127.0.0.1:7401";  // empty: no HTTP endpoint
  uint32_t max_frame_bytes = 64u << 20;
  bool auto_create_topics = false;
  int32_t default_partitions = 1;
  int64_t retention_check_interval_ms = 300'000;
  int64_t shutdown_timeout_ms = 30'000;
  // Native connections above this are closed right after accept.
  int32_t max_connections = 10'000;
  // A connection (native or HTTP) with no request in flight for this long is closed (Kafka's default).
  int64_t connections_max_idle_ms = 600'000;
  std::string log_level = "info";
  // Committed offsets (Kafka's names and defaults): partitions of __consumer_offsets
  // (fixed once the topic exists), how long a group's offsets outlive its newest
  // commit, how often that is checked, and the largest metadata string of a commit.
  int32_t offsets_topic_num_partitions = 50;
  int64_t offsets_topic_segment_bytes = 100 << 20;
  // The transaction coordinator (Kafka's names and defaults): partitions and segment
  // size of __transaction_state (fixed once it exists), the longest transaction
  // timeout a producer may ask for.
  int32_t transaction_state_log_num_partitions = 50;
  int64_t transaction_state_log_segment_bytes = 100 << 20;
  int32_t transaction_max_timeout_ms = 900'000;  // Kafka's: small enough that the cleaner gets closed segments
  int64_t offsets_retention_minutes = 7 * 24 * 60;
  int64_t offsets_retention_check_interval_ms = 600'000;
  int32_t offset_metadata_max_bytes = 4096;
  // Consumer group liveness (Kafka's group.consumer.*): a member silent for the session
  // timeout is removed; the heartbeat interval is dictated to every member.
  int32_t group_consumer_session_timeout_ms = 45'000;
  int32_t group_consumer_heartbeat_interval_ms = 5'000;
  // Bounds of the session timeout a member sends (Kafka's group.min/max.session.timeout.ms).
  int32_t group_min_session_timeout_ms = 6'000;
  int32_t group_max_session_timeout_ms = 1'800'000;
  // Compaction (Kafka's log.cleaner.*): how often the cleaner looks for due logs,
  // and the memory of its key map (a pass cleans as much of the dirty section as fits).
  int64_t log_cleaner_backoff_ms = 15'000;
  int64_t log_cleaner_dedupe_buffer_size = 128ll << 20;
  double log_cleaner_io_max_bytes_per_second = 0;  // 0: no limit (Kafka's default, Double.MaxValue)
  int32_t log_cleaner_threads = 1;
  TopicConfig topic_defaults;
};

// Parses argv. Returns the config, or an error whose message is ready to print
// (it names the setting and why). `--help` sets `help_text` and no error.
struct ParsedArgs {
  BrokerConfig config;
  std::string help_text;  // non-empty when --help was asked
};
Result<ParsedArgs> parse_broker_args(int argc, const char* const* argv);

// Checks a config built in code (EmbeddedBroker) the same way parse_broker_args does.
Status validate_broker_config(const BrokerConfig& config);

}  // namespace sluice::broker
