// Structured logging: one event per line with level, component, event name and
// key=value fields, e.g.
//   2026-11-25T22:40:01.123Z WARN storage log_truncated partition=t-0 offset=17 reason="crc_mismatch"
// Backed by spdlog; this header keeps spdlog out of every includer.
// Thread-safety: safe to call from any thread.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace sluice::log {

enum class Level { debug, info, warn, error };

struct Field {
  std::string_view key;
  std::variant<int64_t, std::string_view, std::string> value;

  Field(std::string_view k, int64_t v) : key(k), value(v) {}
  Field(std::string_view k, int v) : key(k), value(static_cast<int64_t>(v)) {}
  Field(std::string_view k, uint64_t v) : key(k), value(static_cast<int64_t>(v)) {}
  Field(std::string_view k, std::string_view v) : key(k), value(v) {}
  Field(std::string_view k, const char* v) : key(k), value(std::string_view(v)) {}
  Field(std::string_view k, std::string v) : key(k), value(std::move(v)) {}
};

void event(Level level, std::string_view component, std::string_view name, std::initializer_list<Field> fields = {});
void set_min_level(Level level);
// "debug", "info", "warn" or "error"; nullopt for anything else.
std::optional<Level> parse_level(std::string_view name);

inline void info(std::string_view component, std::string_view name, std::initializer_list<Field> fields = {}) {
  event(Level::info, component, name, fields);
}
inline void warn(std::string_view component, std::string_view name, std::initializer_list<Field> fields = {}) {
  event(Level::warn, component, name, fields);
}
inline void error(std::string_view component, std::string_view name, std::initializer_list<Field> fields = {}) {
  event(Level::error, component, name, fields);
}

}  // namespace sluice::log
