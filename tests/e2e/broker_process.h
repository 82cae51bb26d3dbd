// Runs the real `sluiced` binary as a child process on a loopback port with its own
// data directory, for end-to-end tests: start, read the bound port from its log,
// stop it with a signal (or kill -9 it).
#pragma once

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <regex>
#include <string>
#include <thread>
#include <vector>

namespace sluice::testing {

// A fresh path under the system temp dir (not created).
inline std::string temp_dir(const std::string& name) {
  std::random_device rd;
  return (std::filesystem::temp_directory_path() / (name + "-" + std::to_string(rd()))).string();
}

class BrokerProcess {
 public:
  // `binary` is the sluiced path; `data_dir` is created if missing and kept.
  BrokerProcess(std::string binary, std::string data_dir, std::vector<std::string> extra_args = {})
      : binary_(std::move(binary)), data_dir_(std::move(data_dir)), extra_(std::move(extra_args)) {}
  ~BrokerProcess() { kill_now(); }

  // RLIMIT_NOFILE (soft and hard) of the broker process from the next start(); 0: inherited.
  void set_open_files_limit(rlim_t limit) { open_files_limit_ = limit; }
  // Caps the broker's address space (RLIMIT_AS) from the next start(), so a test
  // can make its allocations fail where a production limit would.
  void limit_address_space(uint64_t bytes) { address_space_limit_ = bytes; }

  // Starts on `listen` (default: any free port) and waits until it serves.
  bool start(const std::string& listen = "127.0.0.1:0") {
    log_path_ = data_dir_ + ".log";
    std::filesystem::create_directories(data_dir_);
    std::error_code ec;
    auto log_start = std::filesystem::exists(log_path_) ? std::filesystem::file_size(log_path_, ec) : 0;
    std::vector<std::string> args = {binary_, "--data-dir", data_dir_, "--listen", listen, "--http", "127.0.0.1:0"};
    args.insert(args.end(), extra_.begin(), extra_.end());
    pid_ = fork();
    if (pid_ == 0) {
      FILE* log = std::fopen(log_path_.c_str(), "a");
      if (log) dup2(fileno(log), STDERR_FILENO);
      if (open_files_limit_ > 0) {
        rlimit limit{open_files_limit_, open_files_limit_};
        if (setrlimit(RLIMIT_NOFILE, &limit) != 0) _exit(126);
      }
      if (address_space_limit_) {
        rlimit limit{*address_space_limit_, *address_space_limit_};
        if (setrlimit(RLIMIT_AS, &limit) != 0) _exit(126);  // never run unlimited when a limit was asked for
      }
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(binary_.c_str(), argv.data());
      _exit(127);
    }
    // The broker logs "broker started listen=HOST:PORT" once it accepts connections.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    std::regex started(R"(broker started listen=([0-9.]+:[0-9]+) http=([0-9.]+:[0-9]+))");
    while (std::chrono::steady_clock::now() < deadline) {
      std::ifstream in(log_path_);
      in.seekg(static_cast<std::streamoff>(log_start));
      std::string line;
      while (std::getline(in, line)) {
        std::smatch m;
        if (std::regex_search(line, m, started)) {
          address_ = m[1];
          http_address_ = m[2];
          return true;
        }
      }
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling the log file for a condition
    }
    return false;
  }

  // Sends `sig` and waits for exit; returns the exit status (or -signal).
  int stop(int sig = SIGTERM) {
    if (pid_ <= 0) return -1;
    ::kill(pid_, sig);
    return wait_exit();
  }
  void signal(int sig) {
    if (pid_ > 0) ::kill(pid_, sig);
  }
  // Waits for the process to exit; returns the exit status (or -signal).
  int wait_exit() {
    if (pid_ <= 0) return -1;
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    return -WTERMSIG(status);
  }
  void kill_now() {
    if (pid_ > 0) stop(SIGKILL);
  }

  // Polls the log until it contains `text`; false after `timeout`.
  bool wait_for_log(const std::string& text, std::chrono::milliseconds timeout) const {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (log().find(text) != std::string::npos) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling the log file for a condition
    }
    return false;
  }

  const std::string& address() const { return address_; }
  const std::string& http_address() const { return http_address_; }
  pid_t pid() const { return pid_; }
  // The exit status (or -signal) of a start() that failed because the process exited.
  std::optional<int> exit_status() const { return exit_status_; }
  std::string log() const {
    std::ifstream in(log_path_);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

 private:
  std::string binary_;
  std::string data_dir_;
  std::vector<std::string> extra_;
  std::string log_path_;
  std::string address_;
  std::string http_address_;
  rlim_t open_files_limit_ = 0;
  std::optional<int> exit_status_;
  pid_t pid_ = -1;
  std::optional<uint64_t> address_space_limit_;
};

}  // namespace sluice::testing
