// Hazards an operator hits first, on the real sluiced process: two brokers on one data
// directory, and a broker out of file descriptors.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <sstream>
#include <thread>
#include <vector>

#include "../broker/raw_client.h"
#include "broker_process.h"
#include "e2e_helpers.h"

namespace sluice {
namespace {

using testing::BrokerProcess;
using testing::RawClient;

// Every file below `dir` with its size and modification time.
std::map<std::string, std::pair<uintmax_t, std::filesystem::file_time_type>> snapshot(const std::string& dir) {
  std::map<std::string, std::pair<uintmax_t, std::filesystem::file_time_type>> files;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file()) files[entry.path().string()] = {entry.file_size(), entry.last_write_time()};
  }
  return files;
}

TEST(DataDirLock, SecondSluicedOnALiveDirectoryRefusesToStartAndTouchesNothing) {
  std::string dir = temp_dir("sluice-lock");
  BrokerProcess first(SLUICED_PATH, dir);
  ASSERT_TRUE(first.start());
  {
    RawClient c(first.address());
    create_topic(c, "held", "none");
    for (int n = 0; n < 20; ++n) ASSERT_TRUE(produce(c, "held", batch_for(n)));
  }
  auto before = snapshot(dir);

  BrokerProcess second(SLUICED_PATH, dir);
  ASSERT_FALSE(second.start());
  EXPECT_EQ(second.exit_status(), 1) << second.log();
  EXPECT_NE(second.log().find("is in use by another broker (pid " + std::to_string(first.pid()) + " holds"),
            std::string::npos)
      << second.log();
  EXPECT_EQ(snapshot(dir), before) << "the refused broker changed the directory";

  {
    RawClient c(first.address());
    EXPECT_EQ(read_all(c, "held").size(), 20u) << "the running broker still serves its records";
  }
  EXPECT_EQ(first.stop(SIGTERM), 0);
  EXPECT_NE(first.log().find("broker stopped clean=true"), std::string::npos);
  // The lock goes with the process that held it.
  ASSERT_TRUE(second.start()) << second.log();
  RawClient c(second.address());
  EXPECT_EQ(read_all(c, "held").size(), 20u);
  EXPECT_EQ(second.stop(SIGTERM), 0);
  std::filesystem::remove_all(dir);
  std::filesystem::remove(dir + ".log");
}

// User plus system CPU time of `pid`, from /proc/<pid>/stat.
double cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), {});
  std::istringstream fields(stat.substr(stat.rfind(')') + 2));  // after "pid (comm) "
  std::string field;
  long long utime = 0, stime = 0;
  for (int i = 3; fields >> field; ++i) {  // field 3 is the state
    if (i == 14) utime = std::stoll(field);
    if (i == 15) stime = std::stoll(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// With more clients than descriptors the broker used to spin on the failing accept and
// stop answering, /healthz included. Now the connections above what its descriptors
// allow are refused, and the broker keeps serving the ones it has.
TEST(Connections, OutOfFileDescriptorsTheBrokerNeitherSpinsNorStopsServing) {
  constexpr int kOpenFilesLimit = 128;
  constexpr int kClients = 200;
  std::string dir = temp_dir("sluice-nofile");
  BrokerProcess broker(SLUICED_PATH, dir);
  broker.set_open_files_limit(kOpenFilesLimit);
  ASSERT_TRUE(broker.start()) << broker.log();
  RawClient existing(broker.address());
  create_topic(existing, "busy", "none");
  ASSERT_TRUE(produce(existing, "busy", batch_for(0)));

  std::vector<std::unique_ptr<RawClient>> crowd;
  for (int i = 0; i < kClients; ++i) crowd.push_back(std::make_unique<RawClient>(broker.address()));
  // The crowd is through the accept queue once the broker has refused some of it.
  const std::string refused = "sluice_connections_rejected_total{reason=\"fd_limit\"}";
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (testing::scrape_metric(broker.http_address(), refused) <= 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling a condition
  }
  ASSERT_GT(testing::scrape_metric(broker.http_address(), refused), 0) << broker.log();

  double cpu_before = cpu_seconds(broker.pid());
  std::this_thread::sleep_for(std::chrono::seconds(1));  // the measurement window, not a synchronization
  double cpu_used = cpu_seconds(broker.pid()) - cpu_before;
  EXPECT_LT(cpu_used, 0.2) << "a spinning accept loop uses a whole core";

  auto started = std::chrono::steady_clock::now();
  EXPECT_NE(testing::http_get(broker.http_address(), "/healthz").find("200 OK"), std::string::npos);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(500));
  auto produced = produce(existing, "busy", batch_for(1));
  ASSERT_TRUE(produced);
  EXPECT_EQ(produced->results(0).error().code(), wire::NONE);
  EXPECT_EQ(read_all(existing, "busy").size(), 2u);
  EXPECT_NE(broker.log().find("connection_rejected reason=fd_limit"), std::string::npos) << broker.log();

  crowd.clear();
  EXPECT_EQ(broker.stop(SIGTERM), 0);
  std::filesystem::remove_all(dir);
  std::filesystem::remove(dir + ".log");
}

}  // namespace
}  // namespace sluice
