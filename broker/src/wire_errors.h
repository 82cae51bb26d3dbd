// The one mapping from internal error codes, of every module, to wire error codes.
#pragma once

#include "sluice/common/error.h"

#include "sluice.pb.h"

namespace sluice::broker {

// UNKNOWN_SERVER_ERROR for a code of a category this table does not know.
wire::ErrorCode to_wire_code(std::error_code code);

inline void set_error(wire::Error* out, wire::ErrorCode code, const std::string& message) {
  out->set_code(code);
  out->set_message(message);
}
// The wire carries the wire code and the message; internal code names stay inside.
inline void set_error(wire::Error* out, const Error& error) { set_error(out, to_wire_code(error.code), error.message); }

// Adds a topic's result to a per-topic admin response (create, delete, alter configs):
// its name, and its error when `status` failed. Returns whether it failed.
template <typename Body>
bool add_topic_result(Body& body, const std::string& name, const Status& status) {
  auto* result = body.add_results();
  result->set_name(name);
  if (status) return false;
  set_error(result->mutable_error(), status.error());
  return true;
}

}  // namespace sluice::broker
