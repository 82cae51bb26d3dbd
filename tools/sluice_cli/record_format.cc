#include "record_format.h"

#include "cli_common.h"

namespace sluice::tools {
namespace {

const std::string kNull = "null";

void append_headers(std::string& out, const std::vector<client::Header>& headers) {
  for (size_t i = 0; i < headers.size(); ++i) {
    if (i > 0) out += ',';
    out += headers[i].key;
    if (headers[i].value) {
      out += '=';
      out += *headers[i].value;
    }
  }
}

}  // namespace

Result<RecordFormat> RecordFormat::parse(std::string_view spec) {
  RecordFormat format;
  if (spec == "json") {
    format.json_ = true;
    return format;
  }
  auto literal = [&]() -> std::string& {
    if (format.pieces_.empty() || format.pieces_.back().field != Field::literal) format.pieces_.push_back({});
    return format.pieces_.back().text;
  };
  for (size_t i = 0; i < spec.size(); ++i) {
    char c = spec[i];
    if (c != '%' && c != '\\') {
      literal() += c;
      continue;
    }
    if (i + 1 == spec.size()) {
      return make_error(Errc::invalid_argument, std::string("--format ends with a lone '") + c + "'");
    }
    char next = spec[++i];
    if (c == '\\') {
      switch (next) {
        case 'n': literal() += '\n'; break;
        case 't': literal() += '\t'; break;
        case 'r': literal() += '\r'; break;
        case '\\': literal() += '\\'; break;
        default:
          return make_error(Errc::invalid_argument,
                            std::string("--format: unknown escape \\") + next + " (known: \\n \\t \\r \\\\)");
      }
      continue;
    }
    Field field;
    switch (next) {
      case '%': literal() += '%'; continue;
      case 'k': field = Field::key; break;
      case 'v': field = Field::value; break;
      case 'p': field = Field::partition; break;
      case 'o': field = Field::offset; break;
      case 't': field = Field::timestamp; break;
      case 'T': field = Field::topic; break;
      case 'h': field = Field::headers; break;
      default:
        return make_error(Errc::invalid_argument,
                          std::string("--format: unknown placeholder %") + next + " (known: %k %v %p %o %t %T %h %%)");
    }
    format.pieces_.push_back({field, {}});
  }
  return format;
}

void RecordFormat::append(std::string& out, const consumer::ConsumerRecord& record) const {
  if (json_) return append_json(out, record);
  for (const Piece& piece : pieces_) {
    switch (piece.field) {
      case Field::literal: out += piece.text; break;
      case Field::key: out += record.key ? *record.key : kNull; break;
      case Field::value: out += record.value ? *record.value : kNull; break;
      case Field::partition: out += std::to_string(record.partition); break;
      case Field::offset: out += std::to_string(record.offset); break;
      case Field::timestamp: out += std::to_string(record.timestamp); break;
      case Field::topic: out += record.topic; break;
      case Field::headers: append_headers(out, record.headers); break;
    }
  }
  out += '\n';
}

void RecordFormat::append_json(std::string& out, const consumer::ConsumerRecord& record) const {
  out += "{\"topic\":\"";
  append_json_string(out, record.topic);
  out += "\",\"partition\":" + std::to_string(record.partition);
  out += ",\"offset\":" + std::to_string(record.offset);
  out += ",\"timestamp\":" + std::to_string(record.timestamp);
  out += ",\"key\":";
  append_json_optional(out, record.key);
  out += ",\"value\":";
  append_json_optional(out, record.value);
  out += ",\"headers\":[";
  for (size_t i = 0; i < record.headers.size(); ++i) {
    if (i > 0) out += ',';
    out += "{\"key\":\"";
    append_json_string(out, record.headers[i].key);
    out += "\",\"value\":";
    append_json_optional(out, record.headers[i].value);
    out += '}';
  }
  out += "]}\n";
}

}  // namespace sluice::tools
