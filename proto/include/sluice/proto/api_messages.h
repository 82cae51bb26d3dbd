// The proto messages of each API in the registry (api_registry.h):
// wire::ApiMessages<wire::PRODUCE>::Request is wire::ProduceRequest. Including
// this header checks that every API has both messages in sluice.proto.
// Thread-safety: types only.
#pragma once

#include "sluice/proto/api_registry.h"

#include "sluice.pb.h"

namespace sluice::wire {

template <ApiKey Key>
struct ApiMessages;

#define SLUICE_API_MESSAGES(id, KEY, Message, key, min_version, max_version) \
  template <>                                                                \
  struct ApiMessages<KEY> {                                                  \
    using Request = Message##Request;                                        \
    using Response = Message##Response;                                      \
  };
SLUICE_APIS(SLUICE_API_MESSAGES)
#undef SLUICE_API_MESSAGES

}  // namespace sluice::wire
