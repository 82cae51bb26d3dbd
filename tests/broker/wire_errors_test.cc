// The one mapping from internal error codes, of every module, to wire codes:
// each internal code reaches clients as the wire code that means it, and no
// two different conditions share UNKNOWN_TOPIC_OR_PARTITION.
#include "wire_errors.h"

#include <gtest/gtest.h>

#include <vector>

#include "sluice/broker/broker_errc.h"
#include "sluice/broker/group_errc.h"
#include "sluice/storage/storage_errc.h"

namespace sluice::broker {
namespace {

using storage::StorageErrc;

struct Case {
  std::error_code code;
  wire::ErrorCode wire;
};

// Every module's table lists its codes in enum order, so a test below can check
// that it covers the enum from its first code to its last.
const std::vector<Case> kCommon = {
    {Errc::ok, wire::NONE},
    {Errc::invalid_argument, wire::INVALID_REQUEST},
    {Errc::corrupt_data, wire::CORRUPT_MESSAGE},
    {Errc::truncated, wire::CORRUPT_MESSAGE},
    {Errc::unsupported, wire::UNSUPPORTED_VERSION},
    {Errc::io_error, wire::STORAGE_ERROR},
    {Errc::no_space, wire::STORAGE_ERROR},
    {Errc::not_found, wire::STORAGE_ERROR},
    {Errc::already_exists, wire::TOPIC_ALREADY_EXISTS},
    {Errc::closed, wire::NOT_LEADER_OR_FOLLOWER},
};
const std::vector<Case> kStorage = {
    {StorageErrc::crc_mismatch, wire::CORRUPT_MESSAGE},
    {StorageErrc::wrong_magic, wire::CORRUPT_MESSAGE},
    {StorageErrc::record_count_mismatch, wire::CORRUPT_MESSAGE},
    {StorageErrc::offset_delta_not_monotonic, wire::CORRUPT_MESSAGE},
    {StorageErrc::batch_too_large, wire::MESSAGE_TOO_LARGE},
    {StorageErrc::compression_error, wire::CORRUPT_MESSAGE},
    {StorageErrc::unsupported_compression, wire::UNSUPPORTED_COMPRESSION_TYPE},
    {StorageErrc::invalid_record, wire::INVALID_RECORD},
    {StorageErrc::offset_out_of_range, wire::OFFSET_OUT_OF_RANGE},
    {StorageErrc::not_batch_boundary, wire::INVALID_REQUEST},
    {StorageErrc::out_of_order_sequence, wire::OUT_OF_ORDER_SEQUENCE_NUMBER},
    {StorageErrc::producer_fenced, wire::INVALID_PRODUCER_EPOCH},
};
const std::vector<Case> kBroker = {
    {BrokerErrc::unknown_topic_or_partition, wire::UNKNOWN_TOPIC_OR_PARTITION},
    {BrokerErrc::invalid_topic, wire::INVALID_TOPIC},
    {BrokerErrc::invalid_partitions, wire::INVALID_PARTITIONS},
    {BrokerErrc::invalid_config, wire::INVALID_CONFIG},
    {BrokerErrc::invalid_transaction_timeout, wire::INVALID_TRANSACTION_TIMEOUT},
};
const std::vector<Case> kGroup = {
    {GroupErrc::unknown_member_id, wire::UNKNOWN_MEMBER_ID},
    {GroupErrc::stale_member_epoch, wire::STALE_MEMBER_EPOCH},
    {GroupErrc::fenced_member_epoch, wire::FENCED_MEMBER_EPOCH},
    {GroupErrc::invalid_group_id, wire::INVALID_GROUP_ID},
    {GroupErrc::offset_metadata_too_large, wire::OFFSET_METADATA_TOO_LARGE},
    {GroupErrc::group_id_not_found, wire::GROUP_ID_NOT_FOUND},
    {GroupErrc::non_empty_group, wire::NON_EMPTY_GROUP},
    {GroupErrc::coordinator_load_in_progress, wire::COORDINATOR_LOAD_IN_PROGRESS},
    {GroupErrc::invalid_session_timeout, wire::INVALID_SESSION_TIMEOUT},
    {GroupErrc::invalid_regular_expression, wire::INVALID_REGULAR_EXPRESSION},
    {GroupErrc::fenced_instance_id, wire::FENCED_INSTANCE_ID},
};

void expect_table(const std::vector<Case>& cases, int first, int last) {
  ASSERT_EQ(cases.size(), static_cast<size_t>(last - first + 1)) << "the table covers every code of the enum";
  for (size_t i = 0; i < cases.size(); ++i) {
    ASSERT_EQ(cases[i].code.value(), first + static_cast<int>(i)) << "cases are in enum order";
    EXPECT_EQ(to_wire_code(cases[i].code), cases[i].wire) << cases[i].code.message();
  }
}

TEST(WireErrors, EachCommonCodeMapsToTheWireCodeThatMeansIt) {
  expect_table(kCommon, static_cast<int>(Errc::ok), static_cast<int>(Errc::closed));
}

TEST(WireErrors, EachStorageCodeMapsToTheWireCodeThatMeansIt) {
  expect_table(kStorage, static_cast<int>(StorageErrc::crc_mismatch), static_cast<int>(StorageErrc::producer_fenced));
}

TEST(WireErrors, EachBrokerCodeMapsToTheWireCodeThatMeansIt) {
  expect_table(kBroker, static_cast<int>(BrokerErrc::unknown_topic_or_partition),
               static_cast<int>(BrokerErrc::invalid_transaction_timeout));
}

TEST(WireErrors, EachGroupCodeMapsToTheWireCodeThatMeansIt) {
  expect_table(kGroup, static_cast<int>(GroupErrc::unknown_member_id), static_cast<int>(GroupErrc::fenced_instance_id));
}

TEST(WireErrors, OnlyAnUnknownTopicIsReportedAsOne) {
  for (const auto* table : {&kCommon, &kStorage, &kBroker, &kGroup}) {
    for (const Case& c : *table) {
      if (c.code == BrokerErrc::unknown_topic_or_partition) continue;
      EXPECT_NE(to_wire_code(c.code), wire::UNKNOWN_TOPIC_OR_PARTITION) << c.code.message();
    }
  }
}

TEST(WireErrors, CodesOfTheSameValueInDifferentModulesAreToldApart) {
  // StorageErrc::crc_mismatch and Errc::invalid_argument are both 1.
  ASSERT_EQ(std::error_code(StorageErrc::crc_mismatch).value(), std::error_code(Errc::invalid_argument).value());
  EXPECT_NE(std::error_code(StorageErrc::crc_mismatch), std::error_code(Errc::invalid_argument));
  EXPECT_NE(to_wire_code(StorageErrc::crc_mismatch), to_wire_code(Errc::invalid_argument));
}

TEST(WireErrors, ACodeOfAnUnknownCategoryIsAnUnknownServerError) {
  EXPECT_EQ(to_wire_code(std::make_error_code(std::errc::timed_out)), wire::UNKNOWN_SERVER_ERROR);
  EXPECT_EQ(to_wire_code(std::make_error_code(std::errc::invalid_argument)), wire::UNKNOWN_SERVER_ERROR);
}

TEST(WireErrors, SetErrorCarriesTheWireCodeAndTheMessage) {
  wire::Error out;
  set_error(&out, Error{Errc::closed, "log /data/t-0 is closed"});
  EXPECT_EQ(out.code(), wire::NOT_LEADER_OR_FOLLOWER);
  EXPECT_EQ(out.message(), "log /data/t-0 is closed");
}

TEST(WireErrors, AnErrorNamesItsCodeWhateverTheModule) {
  EXPECT_EQ((Error{StorageErrc::crc_mismatch, "batch at offset 17"}.to_string()), "crc_mismatch: batch at offset 17");
  EXPECT_EQ((Error{BrokerErrc::invalid_topic, "bad"}.to_string()), "invalid_topic: bad");
  EXPECT_EQ((Error{Errc::io_error, ""}.to_string()), "io_error");
}

}  // namespace
}  // namespace sluice::broker
