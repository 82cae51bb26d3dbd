// Pieces shared by the `sluice` and `sluice-perf` command-line tools: option
// parsing helpers, error reporting and JSON string escaping.
// Thread-safety: pure functions, except fail() which writes to stderr.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/client/types.h"
#include "sluice/common/error.h"

namespace CLI {
class App;
}

namespace sluice::tools {

// Exit codes of every tool: 0 success, 1 a failed operation (the broker said no,
// a record was not delivered, ...), 2 bad usage. Commands may add their own
// above these (documented in their --help).
inline constexpr int kOk = 0;
inline constexpr int kFailed = 1;
inline constexpr int kUsage = 2;

inline constexpr std::string_view kDefaultBrokers = "127.0.0.1:7400";
inline constexpr const char* kBrokersEnv = "SLUICE_BROKERS";

// "0" -> 0, "1" -> 1, "all" or "-1" -> -1 (kAcksAll).
Result<int32_t> parse_acks(std::string_view text);

Result<client::CompressionType> parse_compression(std::string_view text);

// "key=value" -> {key, value}; "key" alone -> {key, nullopt}. The key must not be empty.
Result<std::pair<std::string, std::optional<std::string>>> parse_key_value(std::string_view text);

// Applies each -X "key=value" in order with `set` (the producer's or the
// consumer's set_property, by Kafka name); the first bad item is the error.
template <typename Config>
Status apply_properties(const std::vector<std::string>& items, Config& config,
                        Status (*set)(Config&, std::string_view, std::string_view)) {
  for (const std::string& item : items) {
    auto kv = parse_key_value(item);
    if (!kv) return make_error(Errc::invalid_argument, "-X " + item + ": " + kv.error().message);
    if (!kv->second) return make_error(Errc::invalid_argument, "-X " + item + ": expected key=value");
    if (auto s = set(config, kv->first, *kv->second); !s)
      return make_error(Errc::invalid_argument, "-X " + s.error().message);
  }
  return {};
}

// Every "key=value" of `items` into a map; a missing '=' or a repeated key is an error.
Result<std::map<std::string, std::string>> parse_config_list(const std::vector<std::string>& items);

// Sets the client library's log threshold from "debug", "info", "warn" or
// "error". The tools default to "error": they report failures themselves, and the
// library's warnings (a lost connection it retries, ...) would be noise.
Status set_log_level(std::string_view level);

// Adds --log-level (default error), parses argv and applies the level. Returns the
// exit code when the program should stop now (help printed: kOk; bad usage: kUsage),
// nullopt to go on.
std::optional<int> parse_command_line(CLI::App& app, int argc, char** argv);

// Prints "<tool>: <what>: <error message>" to stderr, with a hint when the broker
// could not be reached, and returns kFailed.
int fail(std::string_view what, const Error& error, std::string_view brokers);
// Prints "<tool>: <message>" to stderr and returns `code`.
int fail(std::string_view message, int code = kFailed);

// The program name used as the prefix of fail()'s messages ("sluice", "sluice-perf").
void set_program_name(std::string_view name);

// Appends `bytes` as the contents of a JSON string (without the quotes): '"', '\\'
// and control characters escaped; valid UTF-8 passes through; every byte that is
// not part of valid UTF-8 becomes \u00XX (its Latin-1 reading).
void append_json_string(std::string& out, std::string_view bytes);

// `"..."` or `null`.
void append_json_optional(std::string& out, std::optional<std::string_view> bytes);

}  // namespace sluice::tools
