// Errors are values on the data path: an error code plus a human-readable message.
//
// Each module has its own codes, an enum registered as a std::error_code enum in
// a category of its own: the common ones below (sluice::Errc), the storage
// engine's (storage::StorageErrc, storage/batch), the broker's (broker::BrokerErrc)
// and the client's (client::ErrorCode, which are the wire codes). An Error holds
// one of them as a std::error_code, so code compares it with any module's enum
// (`error.code == StorageErrc::crc_mismatch`) and a code from a module it does
// not know passes through unchanged. The broker maps every code to the wire in
// one function (broker/src/wire_errors.cc); each code means one thing, so that it
// maps to the one wire code that means it. A new kind of failure a client must
// tell apart (an unknown group member) gets its own code, never a reused one.
// Thread-safety: plain value types; the categories are immutable singletons.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include <tl/expected.hpp>

namespace sluice {

// The codes every module may use: argument, I/O and lifecycle failures, and
// bytes that do not decode.
enum class Errc {
  ok = 0,
  invalid_argument,
  corrupt_data,  // bytes failed a structural or checksum check
  truncated,     // a length points past the end of the available bytes
  unsupported,   // a feature the format allows but Sluice does not implement
  io_error,
  no_space,   // the file system is full (ENOSPC, EDQUOT): writes fail, reads go on
  not_found,  // a file or directory that does not exist (ENOENT)
  already_exists,
  closed,  // a log (or other resource) that was closed: its topic deleted, or the broker stopping
};

}  // namespace sluice

template <>
struct std::is_error_code_enum<sluice::Errc> : std::true_type {};

namespace sluice {

// A category whose messages are the names of its codes ("crc_mismatch"), so
// that Error::to_string() reads the same for every module.
class NamedErrorCategory final : public std::error_category {
 public:
  using NameOf = std::string_view (*)(int value);
  NamedErrorCategory(const char* name, NameOf name_of) : name_(name), name_of_(name_of) {}
  const char* name() const noexcept override { return name_; }
  std::string message(int value) const override { return std::string(name_of_(value)); }

 private:
  const char* name_;
  NameOf name_of_;
};

std::string_view errc_name(Errc code);
const std::error_category& common_category();
inline std::error_code make_error_code(Errc code) { return {static_cast<int>(code), common_category()}; }

struct Error {
  std::error_code code = Errc::ok;
  std::string message;

  // "crc_mismatch: batch at offset 17: stored 0x... computed 0x..."; the message
  // alone where it already starts with the code's name and a colon.
  std::string to_string() const;
};

template <typename T>
using Result = tl::expected<T, Error>;
using Status = tl::expected<void, Error>;

inline tl::unexpected<Error> make_error(std::error_code code, std::string message) {
  return tl::unexpected<Error>(Error{code, std::move(message)});
}

}  // namespace sluice
