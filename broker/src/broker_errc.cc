#include "sluice/broker/broker_errc.h"

namespace sluice::broker {

std::string_view broker_errc_name(BrokerErrc code) {
  switch (code) {
    case BrokerErrc::unknown_topic_or_partition: return "unknown_topic_or_partition";
    case BrokerErrc::invalid_topic: return "invalid_topic";
    case BrokerErrc::invalid_partitions: return "invalid_partitions";
    case BrokerErrc::invalid_config: return "invalid_config";
    case BrokerErrc::invalid_transaction_timeout: return "invalid_transaction_timeout";
  }
  return "unknown";
}

const std::error_category& broker_category() {
  static const NamedErrorCategory kCategory("broker",
                                            [](int value) { return broker_errc_name(static_cast<BrokerErrc>(value)); });
  return kCategory;
}

}  // namespace sluice::broker
