// The one mapping from wire error codes (sluice.proto's ErrorCode, passed as an
// int to keep protobuf out of this header) to client errors.
// Thread-safety: plain functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "sluice/common/error.h"

namespace sluice::client {

// "UNKNOWN_TOPIC_OR_PARTITION", or "WIRE_ERROR_<n>" for a code this client does not know.
std::string wire_code_name(int32_t code);

// {the code as an ErrorCode, "<WIRE_CODE_NAME>: <message>"}.
// REQUIRES: code != NONE.
Error wire_error(int32_t code, std::string_view message);

// is_retriable() of the code as an ErrorCode (client_errors.h).
bool is_retriable_wire_code(int32_t code);

}  // namespace sluice::client
