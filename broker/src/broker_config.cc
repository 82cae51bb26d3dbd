#include "sluice/broker/broker_config.h"

#include <algorithm>
#include <charconv>

#include <CLI/CLI.hpp>

namespace sluice::broker {

Result<HostPort> parse_host_port(const std::string& text) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0)
    return make_error(Errc::invalid_argument, "'" + text + "' is not host:port");
  HostPort hp{text.substr(0, colon), 0};
  unsigned port = 0;
  std::string digits = text.substr(colon + 1);
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
  if (ec != std::errc() || ptr != digits.data() + digits.size() || digits.empty() || port > 65535) {
    return make_error(Errc::invalid_argument, "'" + text + "': port must be a number 0-65535");
  }
  hp.port = static_cast<uint16_t>(port);
  return hp;
}

Status validate_broker_config(const BrokerConfig& c) {
  if (c.data_dir.empty()) return make_error(Errc::invalid_argument, "data-dir: must not be empty");
  if (auto hp = parse_host_port(c.listen); !hp)
    return make_error(Errc::invalid_argument, "listen: " + hp.error().message);
  if (!c.http.empty()) {
    if (auto hp = parse_host_port(c.http); !hp)
      return make_error(Errc::invalid_argument, "http: " + hp.error().message);
  }
  if (c.max_frame_bytes < 1024) return make_error(Errc::invalid_argument, "max-frame-bytes: must be at least 1024");
  if (c.default_partitions < 1) return make_error(Errc::invalid_argument, "default-partitions: must be at least 1");
  if (c.max_connections < 1) return make_error(Errc::invalid_argument, "max-connections: must be at least 1");
  if (c.connections_max_idle_ms < 1) {
    return make_error(Errc::invalid_argument, "connections-max-idle-ms: must be at least 1");
  }
  if (c.retention_check_interval_ms < 1) {
    return make_error(Errc::invalid_argument, "retention-check-interval-ms: must be at least 1");
  }
  if (auto s = validate_cleanup_policy(std::string(storage::cleanup_policy_name(c.topic_defaults.log.cleanup_policy)));
      !s) {
    return make_error(Errc::invalid_argument, "default-cleanup-policy: " + s.error().message);
  }
  if (c.offsets_topic_num_partitions < 1) {
    return make_error(Errc::invalid_argument, "offsets-topic-num-partitions: must be at least 1");
  }
  if (c.log_cleaner_backoff_ms < 1)
    return make_error(Errc::invalid_argument, "log-cleaner-backoff-ms: must be at least 1");
  if (c.log_cleaner_dedupe_buffer_size / std::max(c.log_cleaner_threads, 1) < 1 << 20) {
    return make_error(Errc::invalid_argument,
                      "log-cleaner-dedupe-buffer-size: each of the log-cleaner-threads needs at least 1048576 "
                      "(1 MiB) of it");
  }
  if (c.offsets_retention_minutes < 1 || c.offsets_retention_check_interval_ms < 1) {
    return make_error(Errc::invalid_argument, "offsets-retention-minutes and -check-interval-ms: must be at least 1");
  }
  if (c.group_consumer_heartbeat_interval_ms < 1 ||
      c.group_consumer_heartbeat_interval_ms >= c.group_consumer_session_timeout_ms) {
    return make_error(Errc::invalid_argument,
                      "group-consumer-heartbeat-interval-ms: must be at least 1 and below the session timeout");
  }
  if (c.group_min_session_timeout_ms < 1 || c.group_max_session_timeout_ms < c.group_min_session_timeout_ms) {
    return make_error(Errc::invalid_argument,
                      "group-min-session-timeout-ms: must be at least 1 and at most group-max-session-timeout-ms");
  }
  if (c.group_consumer_session_timeout_ms < c.group_min_session_timeout_ms ||
      c.group_consumer_session_timeout_ms > c.group_max_session_timeout_ms) {
    return make_error(Errc::invalid_argument,
                      "group-consumer-session-timeout-ms: " + std::to_string(c.group_consumer_session_timeout_ms) +
                          " is outside group-min/max-session-timeout-ms [" +
                          std::to_string(c.group_min_session_timeout_ms) + ", " +
                          std::to_string(c.group_max_session_timeout_ms) + "]");
  }
  if (c.offset_metadata_max_bytes < 0) {
    return make_error(Errc::invalid_argument, "offset-metadata-max-bytes: must not be negative");
  }
  if (c.log_level != "debug" && c.log_level != "info" && c.log_level != "warn" && c.log_level != "error") {
    return make_error(Errc::invalid_argument,
                      "log-level: '" + c.log_level + "' is not one of debug, info, warn, error");
  }
  return {};
}

Result<ParsedArgs> parse_broker_args(int argc, const char* const* argv) {
  ParsedArgs parsed;
  BrokerConfig& c = parsed.config;
  std::string durability(storage::durability_name(c.topic_defaults.log.durability));
  std::string cleanup(storage::cleanup_policy_name(c.topic_defaults.log.cleanup_policy));
  auto& log = c.topic_defaults.log;

  CLI::App app{
      "sluiced: the Sluice broker. Settings come from embedded defaults, then --config FILE (TOML, "
      "same names as the flags), then flags.",
      "sluiced"};
  app.footer(
      "Signals: SIGTERM, SIGINT and SIGHUP stop the broker cleanly (requests in flight finish, logs are closed); "
      "a second signal or --shutdown-timeout-ms forces the exit.");
  app.set_config("--config", "", "TOML file with settings (keys as the long flag names)");
  app.allow_config_extras(false);
  app.option_defaults()->always_capture_default();
  app.add_option("--data-dir", c.data_dir, "Directory for topic data");
  app.add_option("--listen", c.listen, "Native protocol listener, HOST:PORT (port 0: any free port)");
  app.add_option("--http", c.http, "HTTP listener for /metrics and /healthz, HOST:PORT (empty: off)");
  app.add_option("--max-frame-bytes", c.max_frame_bytes, "Largest request frame accepted")
      ->check(CLI::Range(1024u, 1u << 30));
  app.add_option("--auto-create-topics", c.auto_create_topics, "Create unknown topics on produce");
  app.add_option("--default-partitions", c.default_partitions, "Partitions of auto-created topics")
      ->check(CLI::Range(1, 10000));
  app.add_option("--retention-check-interval-ms", c.retention_check_interval_ms, "How often retention runs")
      ->check(CLI::PositiveNumber);
  app.add_option("--shutdown-timeout-ms", c.shutdown_timeout_ms, "Force exit if a clean shutdown takes longer")
      ->check(CLI::PositiveNumber);
  app.add_option("--max-connections", c.max_connections,
                 "Native protocol connections above this are closed right after accept")
      ->check(CLI::Range(1, INT32_MAX));
  app.add_option("--connections-max-idle-ms", c.connections_max_idle_ms,
                 "Close a connection (native or HTTP) with no request in flight for this long")
      ->check(CLI::PositiveNumber);
  app.add_option("--log-cleaner-backoff-ms", c.log_cleaner_backoff_ms,
                 "How often the log cleaner looks for compacted logs that are due (log.cleaner.backoff.ms)")
      ->check(CLI::PositiveNumber);
  app.add_option("--log-cleaner-dedupe-buffer-size", c.log_cleaner_dedupe_buffer_size,
                 "Bytes of the cleaner's key map, 24 per key (log.cleaner.dedupe.buffer.size)")
      ->check(CLI::Range(int64_t{1} << 20, int64_t{1} << 40));
  app.add_option("--log-cleaner-io-max-bytes-per-second", c.log_cleaner_io_max_bytes_per_second,
                 "Most bytes per second the log cleaner reads and writes, over all its threads; 0: no limit "
                 "(log.cleaner.io.max.bytes.per.second)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--log-cleaner-threads", c.log_cleaner_threads,
                 "Threads that clean compacted logs, each one log at a time (log.cleaner.threads)")
      ->check(CLI::Range(1, 64));
  app.add_option("--offsets-topic-num-partitions", c.offsets_topic_num_partitions,
                 "Partitions of __consumer_offsets (offsets.topic.num.partitions; fixed once it exists)")
      ->check(CLI::Range(1, 1000));
  app.add_option("--offsets-topic-segment-bytes", c.offsets_topic_segment_bytes,
                 "Segment size of __consumer_offsets, whose closed segments the cleaner compacts "
                 "(offsets.topic.segment.bytes; applied when the topic is created)")
      ->check(CLI::Range(int64_t{4096}, int64_t{1} << 30));
  app.add_option("--transaction-state-log-num-partitions", c.transaction_state_log_num_partitions,
                 "Partitions of __transaction_state (transaction.state.log.num.partitions; fixed once it exists)")
      ->check(CLI::Range(1, 1000));
  app.add_option("--transaction-state-log-segment-bytes", c.transaction_state_log_segment_bytes,
                 "Segment size of __transaction_state (transaction.state.log.segment.bytes; applied when the "
                 "topic is created)")
      ->check(CLI::Range(int64_t{4096}, int64_t{1} << 30));
  app.add_option("--transaction-max-timeout-ms", c.transaction_max_timeout_ms,
                 "Longest transaction timeout a producer may ask for (transaction.max.timeout.ms)")
      ->check(CLI::PositiveNumber);
  app.add_option("--offsets-retention-minutes", c.offsets_retention_minutes,
                 "Offsets of a group whose newest commit is older than this are deleted (offsets.retention.minutes)")
      ->check(CLI::PositiveNumber);
  app.add_option("--offsets-retention-check-interval-ms", c.offsets_retention_check_interval_ms,
                 "How often expired offsets are looked for (offsets.retention.check.interval.ms)")
      ->check(CLI::PositiveNumber);
  app.add_option("--offset-metadata-max-bytes", c.offset_metadata_max_bytes,
                 "Largest metadata string of a committed offset (offset.metadata.max.bytes)")
      ->check(CLI::Range(0, 1 << 20));
  app.add_option("--group-consumer-session-timeout-ms", c.group_consumer_session_timeout_ms,
                 "A group member that does not heartbeat for this long is removed (group.consumer.session.timeout.ms)")
      ->check(CLI::Range(1, INT32_MAX));
  app.add_option("--group-consumer-heartbeat-interval-ms", c.group_consumer_heartbeat_interval_ms,
                 "How often group members heartbeat (group.consumer.heartbeat.interval.ms)")
      ->check(CLI::Range(1, INT32_MAX));
  app.add_option("--group-min-session-timeout-ms", c.group_min_session_timeout_ms,
                 "Smallest session timeout a group member may ask for (group.min.session.timeout.ms)")
      ->check(CLI::Range(1, INT32_MAX));
  app.add_option("--group-max-session-timeout-ms", c.group_max_session_timeout_ms,
                 "Largest session timeout a group member may ask for (group.max.session.timeout.ms)")
      ->check(CLI::Range(1, INT32_MAX));
  app.add_option("--log-level", c.log_level, "debug, info, warn or error")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}));
  app.add_option("--default-durability", durability, "Topic default: fsync, interval or none")
      ->check(CLI::IsMember({"fsync", "interval", "none"}));
  app.add_option("--default-flush-ms", log.flush_interval_ms, "Topic default: sync interval for durability=interval")
      ->check(CLI::PositiveNumber);
  app.add_option("--default-retention-ms", log.retention_ms, "Topic default: retention.ms (-1: forever)")
      ->check(CLI::Range(int64_t{-1}, INT64_MAX));
  app.add_option("--default-retention-bytes", log.retention_bytes, "Topic default: retention.bytes (-1: no limit)")
      ->check(CLI::Range(int64_t{-1}, INT64_MAX));
  app.add_option("--default-segment-bytes", log.segment_bytes, "Topic default: segment.bytes")
      ->check(CLI::Range(uint64_t{1024}, storage::kMaxSegmentBytes));
  app.add_option("--default-segment-ms", log.segment_ms, "Topic default: segment.ms")->check(CLI::PositiveNumber);
  app.add_option("--default-max-message-bytes", log.max_batch_bytes, "Topic default: max.message.bytes (largest batch)")
      ->check(CLI::Range(size_t{128}, size_t{1} << 30));
  app.add_option("--default-cleanup-policy", cleanup, "Topic default: delete, compact or compact,delete");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    parsed.help_text = app.help();
    return parsed;
  } catch (const CLI::ParseError& e) {
    return make_error(Errc::invalid_argument, e.what());
  }
  log.durability = *storage::parse_durability(durability);
  if (auto s = validate_cleanup_policy(cleanup); !s) {
    return make_error(Errc::invalid_argument, "default-cleanup-policy: " + s.error().message);
  }
  log.cleanup_policy = *storage::parse_cleanup_policy(cleanup);
  if (auto s = validate_broker_config(c); !s) return tl::unexpected(s.error());
  return parsed;
}

}  // namespace sluice::broker
