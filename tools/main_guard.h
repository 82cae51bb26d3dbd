// The outer edge of every tool's main(): an exception that nothing below could
// handle (out of memory, a bug) ends the process with a message and exit code 1
// instead of std::terminate and a core dump. Errors the tools expect are values
// and never get here.
#pragma once

#include <cstdio>
#include <exception>

namespace sluice::tools {

template <typename Body>
int run_guarded(const char* program, Body&& body) noexcept {
  try {
    return body();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", program, e.what());
  } catch (...) {
    std::fprintf(stderr, "%s: unknown exception\n", program);
  }
  return 1;
}

}  // namespace sluice::tools
