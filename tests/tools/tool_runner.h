// Runs a tool binary as a child process: arguments, stdin text and extra
// environment in; exit code, stdout and stderr out (kept apart, so a test can
// parse stdout exactly).
// Thread-safety: run_tool() may be called from any thread; it forks and execs
// at once, touching nothing but async-signal-safe calls in the child.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace sluice::testing {

struct ToolRun {
  int exit_code = -1;  // -1: killed by a signal or could not start
  std::string out;
  std::string err;
};

struct ToolInput {
  std::string stdin_text;
  // Set in the child's environment on top of the parent's; an empty value unsets.
  std::map<std::string, std::string> env;
  int timeout_seconds = 120;  // then the child is killed
};

ToolRun run_tool(const std::string& path, const std::vector<std::string>& args, const ToolInput& input = {});

// Splits text into lines without their '\n'; a trailing newline adds no empty line.
std::vector<std::string> lines_of(const std::string& text);

}  // namespace sluice::testing
