#include "sluice/common/log.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace sluice::log {
namespace {

std::shared_ptr<spdlog::logger> make_logger() {
  auto logger = spdlog::stderr_logger_mt("sluice");
  // Level, then the pre-formatted "component event k=v..." text.
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc);
  logger->set_level(spdlog::level::info);
  return logger;
}

spdlog::logger& logger() {
  static std::shared_ptr<spdlog::logger> instance = make_logger();
  return *instance;
}

spdlog::level::level_enum to_spdlog(Level level) {
  switch (level) {
    case Level::debug: return spdlog::level::debug;
    case Level::info: return spdlog::level::info;
    case Level::warn: return spdlog::level::warn;
    case Level::error: return spdlog::level::err;
  }
  return spdlog::level::info;
}

void append_quoted(std::string& out, std::string_view s) {
  bool needs_quotes = s.empty() || s.find_first_of(" \"=\t\n") != std::string_view::npos;
  if (!needs_quotes) {
    out += s;
    return;
  }
  out += '"';
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  out += '"';
}

}  // namespace

void event(Level level, std::string_view component, std::string_view name, std::initializer_list<Field> fields) {
  auto lvl = to_spdlog(level);
  if (!logger().should_log(lvl)) return;
  std::string line;
  line.reserve(128);
  line += component;
  line += ' ';
  line += name;
  for (const Field& f : fields) {
    line += ' ';
    line += f.key;
    line += '=';
    if (auto* i = std::get_if<int64_t>(&f.value)) {
      line += std::to_string(*i);
    } else if (auto* sv = std::get_if<std::string_view>(&f.value)) {
      append_quoted(line, *sv);
    } else {
      append_quoted(line, std::get<std::string>(f.value));
    }
  }
  logger().log(lvl, "{}", line);
}

void set_min_level(Level level) { logger().set_level(to_spdlog(level)); }

std::optional<Level> parse_level(std::string_view name) {
  if (name == "debug") return Level::debug;
  if (name == "info") return Level::info;
  if (name == "warn") return Level::warn;
  if (name == "error") return Level::error;
  return std::nullopt;
}

}  // namespace sluice::log
