// Hazards an operator hits first, on the real sluiced process: two brokers on one data
// directory.
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

}  // namespace
}  // namespace sluice
