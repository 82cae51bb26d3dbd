// The client's error codes: each wire code's retriability and name, the code an
// error carries, and retries decided on that code rather than on message text.
#include "sluice/client/client_errors.h"

#include <gtest/gtest.h>

#include <set>

#include "sluice/client/wire_error.h"

#include "sluice.pb.h"

namespace sluice::client {
namespace {

TEST(ClientErrors, EachWireCodeHasItsRetriability) {
  // Transient conditions: stale metadata, a partition that moved or closed,
  // timeouts, storage trouble, a broker on its way down and a coordinator still loading.
  const std::set<int32_t> retriable = {wire::UNKNOWN_TOPIC_OR_PARTITION, wire::NOT_LEADER_OR_FOLLOWER,
                                       wire::REQUEST_TIMED_OUT,          wire::STORAGE_ERROR,
                                       wire::BROKER_SHUTTING_DOWN,       wire::COORDINATOR_LOAD_IN_PROGRESS};
  for (int32_t code = wire::ErrorCode_MIN; code <= wire::ErrorCode_MAX; ++code) {
    ASSERT_TRUE(wire::ErrorCode_IsValid(code)) << "wire codes are dense: " << code;
    std::string name = wire::ErrorCode_Name(static_cast<wire::ErrorCode>(code));
    EXPECT_EQ(is_retriable(static_cast<ErrorCode>(code)), retriable.count(code) == 1) << name;
    EXPECT_EQ(is_retriable_wire_code(code), retriable.count(code) == 1) << name;
    EXPECT_EQ(error_code_name(static_cast<ErrorCode>(code)), name);
  }
}

TEST(ClientErrors, ClientSideCodesHaveTheirTokensAndOnlyDisconnectIsRetriable) {
  struct Case {
    ErrorCode code;
    std::string_view token;
    bool retriable;
  };
  const Case cases[] = {
      {ErrorCode::disconnected, reason::kDisconnected, true},
      {ErrorCode::request_timed_out, reason::kRequestTimedOut, true},
      {ErrorCode::buffer_full, reason::kBufferFull, false},
      {ErrorCode::record_too_large, reason::kRecordTooLarge, false},
      {ErrorCode::delivery_timeout, reason::kDeliveryTimeout, false},
      {ErrorCode::metadata_timeout, reason::kMetadataTimeout, false},
      {ErrorCode::closed, reason::kClosed, false},
      {ErrorCode::protocol_error, reason::kProtocolError, false},
      {ErrorCode::no_offset, reason::kNoOffset, false},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(error_code_name(c.code), c.token);
    EXPECT_EQ(is_retriable(c.code), c.retriable) << c.token;
    Error typed = client_error(c.code, "details");
    EXPECT_EQ(error_code(typed), c.code) << c.token;
    EXPECT_EQ(typed.message, std::string(c.token) + ": details");
    EXPECT_EQ(error_reason(typed), c.token);
  }
}

TEST(ClientErrors, AWireErrorCarriesItsCodeAsAValue) {
  Error e = wire_error(wire::UNKNOWN_TOPIC_OR_PARTITION, "no partition orders-7");
  EXPECT_EQ(error_code(e), ErrorCode::unknown_topic_or_partition);
  EXPECT_EQ(e.code, ErrorCode::unknown_topic_or_partition);
  EXPECT_EQ(e.code.value(), wire::UNKNOWN_TOPIC_OR_PARTITION) << "the wire's number, as a value";
  EXPECT_EQ(e.message, "UNKNOWN_TOPIC_OR_PARTITION: no partition orders-7");
  EXPECT_TRUE(is_retriable(e));

  Error moved = wire_error(wire::NOT_LEADER_OR_FOLLOWER, "log closed");
  EXPECT_EQ(error_code(moved), ErrorCode::not_leader_or_follower);
  EXPECT_NE(moved.code, ErrorCode::unknown_topic_or_partition);
  EXPECT_TRUE(is_retriable(moved));

  Error fenced = wire_error(wire::INVALID_PRODUCER_EPOCH, "epoch 2 < 3");
  EXPECT_EQ(error_code(fenced), ErrorCode::invalid_producer_epoch);
  EXPECT_FALSE(is_retriable(fenced));
}

TEST(ClientErrors, ACodeFromANewerBrokerIsKeptAndNotRetried) {
  Error e = wire_error(999, "something new");
  EXPECT_EQ(e.code.value(), 999);
  EXPECT_EQ(e.code.category(), client_category());
  EXPECT_EQ(e.message, "WIRE_ERROR_999: something new");
  EXPECT_FALSE(is_retriable(e));
}

TEST(ClientErrors, RetriesAreDecidedOnTheCodeNotTheText) {
  // Text that reads like a transient error but carries no code: not retried.
  EXPECT_FALSE(is_retriable(Error{Errc::io_error, "DISCONNECTED: looks transient"}));
  EXPECT_FALSE(is_retriable(Error{Errc::io_error, "UNKNOWN_TOPIC_OR_PARTITION: looks transient"}));
  // And a code is retried whatever its text says.
  Error e{ErrorCode::disconnected, "INVALID_REQUEST: a misleading message"};
  EXPECT_TRUE(is_retriable(e));
}

TEST(ClientErrors, AnErrorOfAnotherModuleHasNoClientCode) {
  EXPECT_EQ(error_code(Error{Errc::invalid_argument, "linger_ms must not be negative"}), ErrorCode::none);
  // Errc::invalid_argument and ErrorCode::unknown_server_error are both 1.
  EXPECT_EQ(error_code(Error{Errc::invalid_argument, ""}), ErrorCode::none);
  EXPECT_NE(std::error_code(Errc::invalid_argument), std::error_code(ErrorCode::unknown_server_error));
}

TEST(ClientErrors, AnErrorNamesItsWireCode) {
  EXPECT_EQ(wire_error(wire::INVALID_TOPIC, "bad name").to_string(), "INVALID_TOPIC: bad name");
  EXPECT_EQ(std::error_code(ErrorCode::disconnected).message(), "DISCONNECTED");
}

}  // namespace
}  // namespace sluice::client
