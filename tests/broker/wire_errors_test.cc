// The one mapping from internal error codes to wire codes: each internal code
// reaches clients as the wire code that means it, and no two different
// conditions share UNKNOWN_TOPIC_OR_PARTITION.
#include "wire_errors.h"

#include <gtest/gtest.h>

namespace sluice::broker {
namespace {

TEST(WireErrors, EachInternalCodeMapsToTheWireCodeThatMeansIt) {
  struct Case {
    Errc code;
    wire::ErrorCode wire;
  };
  const Case cases[] = {
      {Errc::ok, wire::NONE},
      {Errc::invalid_argument, wire::INVALID_REQUEST},
      {Errc::corrupt_data, wire::CORRUPT_MESSAGE},
      {Errc::crc_mismatch, wire::CORRUPT_MESSAGE},
      {Errc::wrong_magic, wire::CORRUPT_MESSAGE},
      {Errc::truncated, wire::CORRUPT_MESSAGE},
      {Errc::record_count_mismatch, wire::CORRUPT_MESSAGE},
      {Errc::offset_delta_not_monotonic, wire::CORRUPT_MESSAGE},
      {Errc::batch_too_large, wire::MESSAGE_TOO_LARGE},
      {Errc::compression_error, wire::CORRUPT_MESSAGE},
      {Errc::unsupported, wire::UNSUPPORTED_VERSION},
      {Errc::offset_out_of_range, wire::OFFSET_OUT_OF_RANGE},
      {Errc::not_batch_boundary, wire::INVALID_REQUEST},
      {Errc::io_error, wire::STORAGE_ERROR},
      {Errc::no_space, wire::STORAGE_ERROR},
      {Errc::not_found, wire::STORAGE_ERROR},
      {Errc::already_exists, wire::TOPIC_ALREADY_EXISTS},
      {Errc::closed, wire::NOT_LEADER_OR_FOLLOWER},
      {Errc::out_of_order_sequence, wire::OUT_OF_ORDER_SEQUENCE_NUMBER},
      {Errc::producer_fenced, wire::INVALID_PRODUCER_EPOCH},
      {Errc::unsupported_compression, wire::UNSUPPORTED_COMPRESSION_TYPE},
      {Errc::invalid_record, wire::INVALID_RECORD},
      {Errc::unknown_topic_or_partition, wire::UNKNOWN_TOPIC_OR_PARTITION},
  };
  // The table covers every code: Errc is dense from ok to its last enumerator.
  ASSERT_EQ(std::size(cases), static_cast<size_t>(Errc::unknown_topic_or_partition) + 1);
  for (size_t i = 0; i < std::size(cases); ++i) {
    ASSERT_EQ(static_cast<size_t>(cases[i].code), i) << "cases are in enum order";
    EXPECT_EQ(to_wire_code(cases[i].code), cases[i].wire) << errc_name(cases[i].code);
  }
}

TEST(WireErrors, OnlyAnUnknownTopicIsReportedAsOne) {
  for (int i = 0; i <= static_cast<int>(Errc::unknown_topic_or_partition); ++i) {
    auto code = static_cast<Errc>(i);
    if (code == Errc::unknown_topic_or_partition) continue;
    EXPECT_NE(to_wire_code(code), wire::UNKNOWN_TOPIC_OR_PARTITION) << errc_name(code);
  }
}

TEST(WireErrors, SetErrorCarriesTheWireCodeAndTheMessage) {
  wire::Error out;
  set_error(&out, Error{Errc::closed, "log /data/t-0 is closed"});
  EXPECT_EQ(out.code(), wire::NOT_LEADER_OR_FOLLOWER);
  EXPECT_EQ(out.message(), "log /data/t-0 is closed");
}

}  // namespace
}  // namespace sluice::broker
