#include "sluice/client/client_errors.h"

#include <string>

#include "sluice/client/wire_error.h"

namespace sluice::client {

Error client_error(Errc code, std::string_view reason, std::string_view details) {
  std::string message(reason);
  if (!details.empty()) {
    message += ": ";
    message += details;
  }
  return Error{code, std::move(message)};
}

std::string_view error_reason(const Error& error) {
  std::string_view m = error.message;
  size_t colon = m.find(": ");
  return colon == std::string_view::npos ? m : m.substr(0, colon);
}

bool is_retriable(const Error& error) {
  std::string_view r = error_reason(error);
  return r == reason::kDisconnected || r == reason::kRequestTimedOut || r == "REQUEST_TIMED_OUT" ||
         r == "STORAGE_ERROR" || r == "BROKER_SHUTTING_DOWN" || r == "UNKNOWN_TOPIC_OR_PARTITION";
}

}  // namespace sluice::client
