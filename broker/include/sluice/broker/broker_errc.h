// The broker's own error codes: requests about topics and settings that the
// broker refuses. The group and transaction coordinators add theirs in their
// own enums. Mapped to the wire with every other code in broker/src/wire_errors.cc.
// Thread-safety: plain values; the category is an immutable singleton.
#pragma once

#include <string_view>
#include <system_error>

#include "sluice/common/error.h"

namespace sluice::broker {

enum class BrokerErrc {
  unknown_topic_or_partition = 1,  // a topic or partition the broker does not have
  invalid_topic,                   // a name that is not a legal topic name, or a reserved one
  invalid_partitions,              // a partition count out of range
  invalid_config,                  // an unknown topic setting or a bad value
  invalid_transaction_timeout,     // above transaction.max.timeout.ms, or not above 0
};

}  // namespace sluice::broker

template <>
struct std::is_error_code_enum<sluice::broker::BrokerErrc> : std::true_type {};

namespace sluice::broker {

std::string_view broker_errc_name(BrokerErrc code);
const std::error_category& broker_category();
inline std::error_code make_error_code(BrokerErrc code) { return {static_cast<int>(code), broker_category()}; }

}  // namespace sluice::broker
