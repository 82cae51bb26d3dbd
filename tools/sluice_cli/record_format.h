// How `sluice consume` prints a record: a template or JSON, one line per record.
//
// Template placeholders (kcat-like, but %t is the timestamp and %T the topic):
//   %k key   %v value   %p partition   %o offset   %t timestamp (ms since the epoch)
//   %T topic   %h headers as k1=v1,k2=v2 (a null header value prints as just k)
//   %% a percent sign;   \n \t \r \\ newline, tab, carriage return, backslash.
// A null key or value prints as "null". Key and value bytes are printed as they are.
//
// JSON: one object per line,
//   {"topic":"t","partition":0,"offset":5,"timestamp":1700000000000,
//    "key":"k"|null,"value":"v"|null,"headers":[{"key":"h","value":"x"|null}]}
// Strings are escaped; bytes that are not UTF-8 appear as \u00XX (their Latin-1 reading).
//
// Thread-safety: immutable after parse(); append() may be called concurrently.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "sluice/common/error.h"
#include "sluice/consumer/consumer_record.h"

namespace sluice::tools {

class RecordFormat {
 public:
  // "json", or a template as above. An unknown %x or \x is an invalid_argument error.
  static Result<RecordFormat> parse(std::string_view spec);

  // Appends the record's rendering and a '\n'.
  void append(std::string& out, const consumer::ConsumerRecord& record) const;

 private:
  enum class Field { literal, key, value, partition, offset, timestamp, topic, headers };
  struct Piece {
    Field field = Field::literal;
    std::string text;  // for Field::literal
  };

  void append_json(std::string& out, const consumer::ConsumerRecord& record) const;

  bool json_ = false;
  std::vector<Piece> pieces_;
};

}  // namespace sluice::tools
