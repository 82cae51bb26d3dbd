// A consumer group member as its own process, for the multi-process group tests:
//
//   group_member --bootstrap HOST:PORT --group G --topic T [--topic T2...] --out FILE
//                [--process-ms N] [-X key=value...]
//
// It subscribes to the topics, polls, and appends one line per event to FILE, each
// starting with CLOCK_MONOTONIC in ns (one clock for every process on the machine):
//   <ns> started
//   <ns> assigned|revoked|lost <topic>:<partition> ...
//   <ns> record <topic> <partition> <offset>
//   <ns> committed            (the records above it are committed)
//   <ns> commit_failed <error>
//   <ns> closed
// After each poll it "processes" the records (writes and flushes their lines), then
// commits synchronously, so after a kill -9 the uncommitted records are exactly the
// record lines after the last "committed". --process-ms makes the processing of each
// poll's records take that long (between their lines and the commit), so a test can
// kill a member that processed records it has not committed. Auto-commit is off and auto.offset.reset
// is earliest unless -X says otherwise. SIGTERM or SIGINT: close() (revokes, leaves) and exit 0.
#include <signal.h>
#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "sluice/consumer/consumer.h"
#include "sluice/consumer/consumer_properties.h"

namespace {

using sluice::client::TopicPartition;
using sluice::consumer::Consumer;

volatile sig_atomic_t g_stop = 0;

void on_signal(int /*sig*/) { g_stop = 1; }

int64_t monotonic_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

// Appends lines to the event file; flush() makes them visible to other processes.
class EventLog {
 public:
  explicit EventLog(FILE* file) : file_(file) {}
  void line(const std::string& text) {
    std::fprintf(file_, "%lld %s\n", static_cast<long long>(monotonic_ns()), text.c_str());
  }
  void flush() { std::fflush(file_); }

 private:
  FILE* file_;
};

class LoggingListener : public sluice::consumer::RebalanceListener {
 public:
  explicit LoggingListener(EventLog& log) : log_(log) {}
  void on_partitions_assigned(const std::vector<TopicPartition>& p) override { write("assigned", p); }
  void on_partitions_revoked(const std::vector<TopicPartition>& p) override { write("revoked", p); }
  void on_partitions_lost(const std::vector<TopicPartition>& p) override { write("lost", p); }

 private:
  void write(const char* what, const std::vector<TopicPartition>& partitions) {
    std::string text = what;
    for (const auto& tp : partitions) text += " " + tp.topic + ":" + std::to_string(tp.partition);
    log_.line(text);
    log_.flush();
  }
  EventLog& log_;
};

int usage(const char* why) {
  std::fprintf(stderr,
               "group_member: %s\nusage: group_member --bootstrap HOST:PORT --group G --topic T... --out FILE "
               "[--process-ms N] [-X key=value...]\n",
               why);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  sluice::consumer::ConsumerConfig config;
  config.client_id = "group-member";
  config.enable_auto_commit = false;
  config.auto_offset_reset = sluice::consumer::OffsetReset::earliest;
  std::vector<std::string> topics;
  std::string out_path;
  int process_ms = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (i + 1 >= argc) return usage(("a value must follow " + arg).c_str());
    const std::string value = argv[++i];
    if (arg == "--bootstrap") {
      config.bootstrap = value;
    } else if (arg == "--group") {
      config.group_id = value;
    } else if (arg == "--topic") {
      topics.push_back(value);
    } else if (arg == "--out") {
      out_path = value;
    } else if (arg == "--process-ms") {
      process_ms = std::stoi(value);
    } else if (arg == "-X") {
      const auto eq = value.find('=');
      if (eq == std::string::npos) return usage(("-X " + value + " is not key=value").c_str());
      if (auto s = sluice::consumer::set_property(config, value.substr(0, eq), value.substr(eq + 1)); !s) {
        return usage(s.error().message.c_str());
      }
    } else {
      return usage(("unknown argument " + arg).c_str());
    }
  }
  if (config.bootstrap.empty() || config.group_id.empty() || topics.empty() || out_path.empty()) {
    return usage("--bootstrap, --group, --topic and --out are required");
  }
  FILE* file = std::fopen(out_path.c_str(), "a");
  if (!file) return usage(("cannot open " + out_path + ": " + std::strerror(errno)).c_str());
  struct sigaction action {};
  action.sa_handler = on_signal;
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);

  EventLog log(file);
  LoggingListener listener(log);
  auto consumer = Consumer::create(config);
  if (!consumer) return usage(consumer.error().to_string().c_str());
  if (auto s = consumer->subscribe(topics, &listener); !s) return usage(s.error().to_string().c_str());
  log.line("started");
  log.flush();
  while (!g_stop) {
    auto records = consumer->poll(std::chrono::milliseconds(100));
    if (!records || records->empty()) continue;
    for (const auto& r : *records) {
      log.line("record " + r.topic + " " + std::to_string(r.partition) + " " + std::to_string(r.offset));
    }
    log.flush();  // processed before it is committed
    if (process_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(process_ms));  // the work itself
    if (auto s = consumer->commit_sync(); s) {
      log.line("committed");
    } else {
      log.line("commit_failed " + s.error().to_string());
    }
    log.flush();
  }
  consumer->close();
  log.line("closed");
  std::fclose(file);
  return 0;
}
