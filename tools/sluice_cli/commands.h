// The `sluice` subcommands. Each add_*_command() registers its subcommand on the
// app; when the subcommand is chosen its parse callback stores the work to do in
// `context.action`, which main() runs once parsing has finished (so global options
// given after the subcommand are already in place).
// Thread-safety: called from main() only.
#pragma once

#include <functional>
#include <string>

#include <CLI/CLI.hpp>

namespace sluice::tools {

struct CliContext {
  std::string brokers;          // --brokers / SLUICE_BROKERS
  std::function<int()> action;  // the chosen subcommand's work; returns the exit code
};

void add_topic_command(CLI::App& app, CliContext& context);
void add_produce_command(CLI::App& app, CliContext& context);
void add_consume_command(CLI::App& app, CliContext& context);
void add_offsets_command(CLI::App& app, CliContext& context);
void add_group_command(CLI::App& app, CliContext& context);

}  // namespace sluice::tools
