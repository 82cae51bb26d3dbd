// sluiced: the broker daemon. Settings: `sluiced --help`.
// SIGTERM/SIGINT/SIGHUP stop it cleanly (requests in flight finish, logs are closed so the
// next start needs no recovery); a second signal, or the shutdown timeout, forces exit.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include "sluice/broker/broker.h"
#include "sluice/common/log.h"

int main(int argc, char** argv) {
  using namespace sluice;
  auto parsed = broker::parse_broker_args(argc, argv);
  if (!parsed) {
    std::fprintf(stderr, "sluiced: invalid setting: %s\n", parsed.error().message.c_str());
    return 2;
  }
  if (!parsed->help_text.empty()) {
    std::fputs(parsed->help_text.c_str(), stdout);
    return 0;
  }
  const auto& config = parsed->config;
  log::set_min_level(log::parse_level(config.log_level).value_or(log::Level::info));  // validated by parsing
  // Block the stop signals in every thread; this one waits for them synchronously.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  // A closed terminal or session sends SIGHUP; its default action would kill the
  // broker without closing the logs (and the next start would recover them).
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  auto broker = broker::Broker::start(config);
  if (!broker) {
    log::error("broker", "start_failed", {{"error", broker.error().to_string()}});
    return 1;
  }
  std::thread waiter([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    log::info("broker", "signal", {{"signal", sig == SIGTERM ? "SIGTERM" : sig == SIGINT ? "SIGINT" : "SIGHUP"}});
    (*broker)->request_stop();
    // A second signal or the timeout forces the exit; the logs then recover on next start.
    struct timespec timeout {
      static_cast<time_t>(config.shutdown_timeout_ms / 1000),
          static_cast<long>(config.shutdown_timeout_ms % 1000) * 1000000
    };
    siginfo_t info;
    int again = sigtimedwait(&signals, &info, &timeout);
    if (again > 0) {
      log::warn("broker", "forced_exit", {{"reason", "second signal"}});
      _exit(130);
    }
    if (again < 0 && errno == EAGAIN) {
      log::warn("broker", "forced_exit", {{"reason", "shutdown timeout"}});
      _exit(1);
    }
  });
  auto status = (*broker)->wait();
  // The waiter is still blocked in sigtimedwait; the process exits around it.
  waiter.detach();
  return status ? 0 : 1;
}
