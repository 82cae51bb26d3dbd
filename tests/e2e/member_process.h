// A consumer group member as a child process (tests/e2e/group_member.cc) and the
// events it wrote: start it, SIGTERM or kill -9 it, and read back its event file as
// ownership changes and records, each stamped with CLOCK_MONOTONIC (one clock for
// every process on the machine, so events of different members compare).
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "sluice/client/types.h"

namespace sluice::testing {

inline int64_t monotonic_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

struct MemberEvent {
  enum class Kind { started, assigned, revoked, lost, record, committed, commit_failed, closed };
  int64_t ns = 0;
  Kind kind = Kind::started;
  std::vector<client::TopicPartition> partitions;  // assigned, revoked, lost; the record's one
  int64_t offset = -1;                             // record
};

// Parses group_member's event lines; a torn last line (a kill -9 mid-write) is skipped.
inline std::vector<MemberEvent> read_member_events(const std::string& path) {
  std::vector<MemberEvent> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (in.eof()) break;  // no newline: torn
    std::istringstream fields(line);
    MemberEvent e;
    std::string kind;
    if (!(fields >> e.ns >> kind)) continue;
    if (kind == "record") {
      client::TopicPartition tp;
      fields >> tp.topic >> tp.partition >> e.offset;
      e.kind = MemberEvent::Kind::record;
      e.partitions.push_back(tp);
    } else if (kind == "assigned" || kind == "revoked" || kind == "lost") {
      e.kind = kind == "assigned"  ? MemberEvent::Kind::assigned
               : kind == "revoked" ? MemberEvent::Kind::revoked
                                   : MemberEvent::Kind::lost;
      std::string tp;
      while (fields >> tp) {
        const auto colon = tp.rfind(':');
        e.partitions.push_back(client::TopicPartition{tp.substr(0, colon), std::stoi(tp.substr(colon + 1))});
      }
    } else if (kind == "committed") {
      e.kind = MemberEvent::Kind::committed;
    } else if (kind == "commit_failed") {
      e.kind = MemberEvent::Kind::commit_failed;
    } else if (kind == "closed") {
      e.kind = MemberEvent::Kind::closed;
    }
    out.push_back(std::move(e));
  }
  return out;
}

// The partitions a member owns after `events`.
inline std::set<client::TopicPartition> owned_after(const std::vector<MemberEvent>& events) {
  std::set<client::TopicPartition> owned;
  for (const MemberEvent& e : events) {
    if (e.kind == MemberEvent::Kind::assigned) owned.insert(e.partitions.begin(), e.partitions.end());
    if (e.kind == MemberEvent::Kind::revoked || e.kind == MemberEvent::Kind::lost) {
      for (const auto& tp : e.partitions) owned.erase(tp);
    }
  }
  return owned;
}

class MemberProcess {
 public:
  // Starts `binary` (group_member) at once; its stderr goes to <events_path>.stderr.
  MemberProcess(const std::string& binary, const std::string& bootstrap, const std::string& group,
                const std::string& topic, std::string events_path, const std::vector<std::string>& settings = {},
                int process_ms = 0)
      : events_path_(std::move(events_path)) {
    std::vector<std::string> args = {binary,    "--bootstrap", bootstrap, "--group",   group,
                                     "--topic", topic,         "--out",   events_path_};
    if (process_ms > 0) {
      args.push_back("--process-ms");
      args.push_back(std::to_string(process_ms));
    }
    for (const auto& s : settings) {
      args.push_back("-X");
      args.push_back(s);
    }
    const std::string err_path = events_path_ + ".stderr";
    pid_ = fork();
    if (pid_ == 0) {
      FILE* err = std::fopen(err_path.c_str(), "a");
      if (err) dup2(fileno(err), STDERR_FILENO);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(binary.c_str(), argv.data());
      _exit(127);
    }
  }
  ~MemberProcess() { kill_now(); }
  MemberProcess(const MemberProcess&) = delete;
  MemberProcess& operator=(const MemberProcess&) = delete;

  // kill -9; returns CLOCK_MONOTONIC once it is gone (nothing it logs is later).
  int64_t kill_now() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
    return monotonic_ns();
  }
  // SIGTERM (close(): revoke and leave); the exit status, or -signal.
  int stop() {
    if (pid_ <= 0) return -1;
    ::kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  }
  bool running() const { return pid_ > 0; }

  std::vector<MemberEvent> events() const { return read_member_events(events_path_); }
  std::set<client::TopicPartition> owned() const { return owned_after(events()); }
  const std::string& events_path() const { return events_path_; }

 private:
  std::string events_path_;
  pid_t pid_ = -1;
};

}  // namespace sluice::testing
