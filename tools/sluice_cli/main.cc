// sluice: the command-line client of the Sluice broker. Creates, lists, describes
// and deletes topics, produces lines from stdin, consumes records to stdout and
// shows partition offsets. `sluice --help` and `sluice <command> --help` say how.
#include <cstdlib>
#include <string>

#include <CLI/CLI.hpp>

#include "../main_guard.h"
#include "cli_common.h"
#include "commands.h"

namespace {
int run(int argc, char** argv) {
  using namespace sluice::tools;
  set_program_name("sluice");
  CLI::App app{"sluice: command-line client of the Sluice event log broker"};
  app.name("sluice");
  app.require_subcommand(1);
  app.fallthrough();  // --brokers may also follow the subcommand

  CliContext context;
  context.brokers = std::string(kDefaultBrokers);
  app.add_option("-b,--brokers", context.brokers, "Broker address HOST:PORT")
      ->envname(kBrokersEnv)
      ->capture_default_str();

  add_topic_command(app, context);
  add_produce_command(app, context);
  add_consume_command(app, context);
  add_offsets_command(app, context);
  add_group_command(app, context);

  if (auto stop = parse_command_line(app, argc, argv)) return *stop;
  if (!context.action) return fail("no command given; see sluice --help", kUsage);
  return context.action();
}
}  // namespace

int main(int argc, char** argv) {
  return sluice::tools::run_guarded("sluice", [&] { return run(argc, argv); });
}
