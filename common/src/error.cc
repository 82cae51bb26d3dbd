#include "sluice/common/error.h"

namespace sluice {

std::string_view errc_name(Errc code) {
  switch (code) {
    case Errc::ok: return "ok";
    case Errc::invalid_argument: return "invalid_argument";
    case Errc::corrupt_data: return "corrupt_data";
    case Errc::truncated: return "truncated";
    case Errc::unsupported: return "unsupported";
    case Errc::io_error: return "io_error";
    case Errc::no_space: return "no_space";
    case Errc::not_found: return "not_found";
    case Errc::already_exists: return "already_exists";
    case Errc::closed: return "closed";
  }
  return "unknown";
}

const std::error_category& common_category() {
  static const NamedErrorCategory kCategory("sluice", [](int value) { return errc_name(static_cast<Errc>(value)); });
  return kCategory;
}

std::string Error::to_string() const {
  std::string out = code.message();
  // Client errors' messages already start with their code's name (client_errors.h).
  if (message.size() > out.size() && message.starts_with(out) && message[out.size()] == ':') return message;
  if (!message.empty()) {
    out += ": ";
    out += message;
  }
  return out;
}

}  // namespace sluice
