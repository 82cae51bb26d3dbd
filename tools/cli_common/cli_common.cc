#include "cli_common.h"

#include <charconv>
#include <cstdio>
#include <iostream>

#include <CLI/CLI.hpp>

#include "sluice/client/client_errors.h"
#include "sluice/client/producer_config.h"
#include "sluice/common/log.h"

namespace sluice::tools {
namespace {

std::string& program_name() {
  static std::string name = "sluice";
  return name;
}

// Length of the valid UTF-8 sequence starting at s[i], or 0 if there is none.
size_t utf8_sequence_length(std::string_view s, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(i);
  size_t len = 0;
  uint32_t min = 0;
  if (c < 0x80) return 1;
  if ((c & 0xE0) == 0xC0) {
    len = 2;
    min = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    len = 3;
    min = 0x800;
  } else if ((c & 0xF8) == 0xF0) {
    len = 4;
    min = 0x10000;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  uint32_t cp = c & (0x7F >> len);
  for (size_t k = 1; k < len; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

void append_unicode_escape(std::string& out, unsigned char c) {
  char buf[8];
  std::snprintf(buf, sizeof(buf), "\\u%04x", c);
  out += buf;
}

}  // namespace

Result<int32_t> parse_acks(std::string_view text) {
  if (text == "0") return client::kAcksNone;
  if (text == "1") return client::kAcksLeader;
  if (text == "all" || text == "-1") return client::kAcksAll;
  return make_error(Errc::invalid_argument, "--acks must be 0, 1 or all, not \"" + std::string(text) + "\"");
}

Result<client::CompressionType> parse_compression(std::string_view text) {
  if (text == "none") return client::CompressionType::none;
  if (text == "zstd") return client::CompressionType::zstd;
  return make_error(Errc::invalid_argument, "--compression must be none or zstd, not \"" + std::string(text) + "\"");
}

Result<std::pair<std::string, std::optional<std::string>>> parse_key_value(std::string_view text) {
  size_t eq = text.find('=');
  std::string key(text.substr(0, eq));
  if (key.empty()) return make_error(Errc::invalid_argument, "\"" + std::string(text) + "\" has an empty key");
  if (eq == std::string_view::npos) return std::pair{key, std::optional<std::string>()};
  return std::pair{key, std::optional<std::string>(text.substr(eq + 1))};
}

Result<std::map<std::string, std::string>> parse_config_list(const std::vector<std::string>& items) {
  std::map<std::string, std::string> out;
  for (const std::string& item : items) {
    auto kv = parse_key_value(item);
    if (!kv) return tl::unexpected(kv.error());
    if (!kv->second) return make_error(Errc::invalid_argument, "\"" + item + "\" is not key=value");
    if (!out.emplace(kv->first, *kv->second).second) {
      return make_error(Errc::invalid_argument, "config \"" + kv->first + "\" is given twice");
    }
  }
  return out;
}

Status set_log_level(std::string_view level) {
  auto parsed = log::parse_level(level);
  if (!parsed) {
    return make_error(Errc::invalid_argument,
                      "--log-level must be debug, info, warn or error, not \"" + std::string(level) + "\"");
  }
  log::set_min_level(*parsed);
  return {};
}

std::optional<int> parse_command_line(CLI::App& app, int argc, char** argv) {
  std::string log_level = "error";
  app.add_option("--log-level", log_level, "Client library log threshold: debug, info, warn or error")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}))
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? kOk : kUsage;
  }
  if (auto s = set_log_level(log_level); !s) return fail(s.error().message, kUsage);
  return std::nullopt;
}

int fail(std::string_view what, const Error& error, std::string_view brokers) {
  std::string message = error.message.empty() ? error.code.message() : error.message;
  std::cerr << program_name() << ": " << what << ": " << message << "\n";
  auto code = client::error_code(error);
  if (code == client::ErrorCode::disconnected || code == client::ErrorCode::metadata_timeout ||
      code == client::ErrorCode::request_timed_out) {
    std::cerr << program_name() << ": is a broker listening on " << brokers << "? Set --brokers or " << kBrokersEnv
              << ".\n";
  }
  return kFailed;
}

int fail(std::string_view message, int code) {
  std::cerr << program_name() << ": " << message << "\n";
  return code;
}

void set_program_name(std::string_view name) { program_name() = name; }

void append_json_string(std::string& out, std::string_view bytes) {
  for (size_t i = 0; i < bytes.size();) {
    unsigned char c = static_cast<unsigned char>(bytes[i]);
    switch (c) {
      case '"':
        out += "\\\"";
        ++i;
        continue;
      case '\\':
        out += "\\\\";
        ++i;
        continue;
      case '\n':
        out += "\\n";
        ++i;
        continue;
      case '\r':
        out += "\\r";
        ++i;
        continue;
      case '\t':
        out += "\\t";
        ++i;
        continue;
      default: break;
    }
    if (c < 0x20 || c == 0x7F) {
      append_unicode_escape(out, c);
      ++i;
      continue;
    }
    size_t len = utf8_sequence_length(bytes, i);
    if (len == 0) {
      // Not UTF-8: keep the byte, read as Latin-1, so nothing is lost.
      append_unicode_escape(out, c);
      ++i;
      continue;
    }
    out.append(bytes.substr(i, len));
    i += len;
  }
}

void append_json_optional(std::string& out, std::optional<std::string_view> bytes) {
  if (!bytes) {
    out += "null";
    return;
  }
  out += '"';
  append_json_string(out, *bytes);
  out += '"';
}

}  // namespace sluice::tools
