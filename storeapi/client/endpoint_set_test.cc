#include "storeapi/client/endpoint_set.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "storeapi/client/testing/fake_store.h"

namespace paodin::storeapi {
namespace {

using ::paodin::storeapi::testing::FakeStore;
using ::paodin::storeapi::testing::FakeStoreConfig;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

FakeStoreConfig Sidecar(std::string cluster) {
  FakeStoreConfig cfg;
  cfg.external_labels = {{"cluster", std::move(cluster)}, {"replica", "0"}};
  cfg.min_time = 1000;
  cfg.max_time = 9000;
  return cfg;
}

EndpointSetOptions FastOptions(std::vector<std::string> endpoints) {
  EndpointSetOptions options;
  options.endpoints = std::move(endpoints);
  options.info_timeout = std::chrono::milliseconds(500);
  options.refresh_interval = std::chrono::milliseconds(100);
  return options;
}

std::vector<std::string> StoreAddresses(const EndpointSet& set) {
  std::vector<std::string> out;
  for (const StoreRef& s : set.Stores())
    out.push_back(s.client->address());
  return out;
}

TEST(EndpointSetTest, HealthyEndpointIsQueryableWithItsInfo) {
  FakeStore store(Sidecar("east"));
  ASSERT_TRUE(store.Start().ok());
  EndpointSet set(FastOptions({store.address()}));
  EXPECT_FALSE(set.Ready());
  set.Refresh();
  EXPECT_TRUE(set.Ready());
  std::vector<StoreRef> stores = set.Stores();
  ASSERT_EQ(stores.size(), 1u);
  EXPECT_EQ(stores[0].info->component_type, "sidecar");
  EXPECT_EQ(stores[0].info->min_time, 1000);
  EXPECT_EQ(stores[0].info->max_time, 9000);
  EXPECT_TRUE(stores[0].info->supports_without_replica_labels);
  ASSERT_EQ(stores[0].info->label_sets.size(), 1u);
  EXPECT_EQ(stores[0].info->label_sets[0].ToString(), R"({cluster="east", replica="0"})");

  std::vector<EndpointStatus> status = set.Status();
  ASSERT_EQ(status.size(), 1u);
  EXPECT_EQ(status[0].name, store.address());
  EXPECT_FALSE(status[0].last_error.has_value());
  EXPECT_GT(status[0].last_check_ms, 0);
  EXPECT_EQ(status[0].component_type, "sidecar");
  EXPECT_TRUE(status[0].queryable);
}

TEST(EndpointSetTest, FailingInfoLeavesEndpointOutAndKeepsTheError) {
  FakeStoreConfig cfg = Sidecar("east");
  FakeStore store(cfg);
  ASSERT_TRUE(store.Start().ok());
  EndpointSet set(FastOptions({store.address()}));
  set.Refresh();
  ASSERT_EQ(set.Stores().size(), 1u);

  cfg.info_fails = true;
  store.SetConfig(cfg);
  set.Refresh();
  EXPECT_TRUE(set.Stores().empty());
  std::vector<EndpointStatus> status = set.Status();
  ASSERT_EQ(status.size(), 1u);
  ASSERT_TRUE(status[0].last_error.has_value());
  EXPECT_THAT(*status[0].last_error, HasSubstr("not ready"));
  // The metadata of the last good check is still reported.
  EXPECT_EQ(status[0].component_type, "sidecar");
  EXPECT_FALSE(status[0].queryable);

  cfg.info_fails = false;
  store.SetConfig(cfg);
  set.Refresh();
  EXPECT_EQ(set.Stores().size(), 1u);
}

TEST(EndpointSetTest, EndpointThatNeverAnswersInfoIsNotQueried) {
  FakeStoreConfig hanging = Sidecar("dead");
  hanging.info_hangs = true;
  FakeStore dead(hanging);
  FakeStore good(Sidecar("east"));
  ASSERT_TRUE(dead.Start().ok());
  ASSERT_TRUE(good.Start().ok());
  EndpointSet set(FastOptions({dead.address(), good.address()}));
  set.Refresh();
  EXPECT_THAT(StoreAddresses(set), ElementsAre(good.address()));
  for (const EndpointStatus& s : set.Status()) {
    if (s.name != dead.address())
      continue;
    ASSERT_TRUE(s.last_error.has_value());
    EXPECT_THAT(*s.last_error, HasSubstr("DeadlineExceeded"));
    EXPECT_EQ(s.component_type, "");
  }
}

TEST(EndpointSetTest, UnhealthyEndpointIsDroppedAfterTheTimeout) {
  FakeStoreConfig cfg = Sidecar("east");
  cfg.info_fails = true;
  FakeStore store(cfg);
  ASSERT_TRUE(store.Start().ok());
  EndpointSetOptions options = FastOptions({store.address()});
  options.unhealthy_timeout = std::chrono::milliseconds(0);
  EndpointSet set(options);
  set.Refresh();
  EXPECT_TRUE(set.Status().empty());
}

TEST(EndpointSetTest, StrictEndpointIsQueriedWithoutInfo) {
  FakeStoreConfig cfg = Sidecar("east");
  cfg.info_fails = true;
  FakeStore store(cfg);
  ASSERT_TRUE(store.Start().ok());
  EndpointSetOptions options = FastOptions({});
  options.strict_endpoints = {store.address()};
  options.unhealthy_timeout = std::chrono::milliseconds(0);
  EndpointSet set(options);
  set.Refresh();
  std::vector<StoreRef> stores = set.Stores();
  ASSERT_EQ(stores.size(), 1u);
  EXPECT_TRUE(stores[0].info->label_sets.empty());
  EXPECT_EQ(stores[0].info->min_time, std::numeric_limits<int64_t>::min());
}

TEST(EndpointSetTest, FileDiscoveryFollowsTheFile) {
  FakeStore a(Sidecar("a"));
  FakeStore b(Sidecar("b"));
  ASSERT_TRUE(a.Start().ok());
  ASSERT_TRUE(b.Start().ok());
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("paodin_sd_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const std::string file = (dir / "stores.yaml").string();
  {
    std::ofstream out(file);
    out << "- targets: ['" << a.address() << "']\n";
  }
  EndpointSetOptions options = FastOptions({});
  options.sd_files = {(dir / "*.yaml").string()};
  EndpointSet set(options);
  set.Refresh();
  EXPECT_THAT(StoreAddresses(set), ElementsAre(a.address()));
  {
    std::ofstream out(file);
    out << "[{\"targets\": [\"" << b.address() << "\"], \"labels\": {\"x\": \"y\"}}]\n";
  }
  set.Refresh();
  EXPECT_THAT(StoreAddresses(set), ElementsAre(b.address()));
  std::filesystem::remove_all(dir);
}

TEST(EndpointSetTest, FailedResolutionKeepsThePreviousAddresses) {
  FakeStore a(Sidecar("a"));
  ASSERT_TRUE(a.Start().ok());
  int calls = 0;
  EndpointSetOptions options = FastOptions({"dns+stores.example:1"});
  options.resolver = [&](std::string_view spec) -> absl::StatusOr<std::vector<std::string>> {
    if (++calls == 1)
      return std::vector<std::string>{a.address()};
    return absl::UnavailableError("lookup stores.example: no such host");
  };
  EndpointSet set(options);
  set.Refresh();
  set.Refresh();
  EXPECT_THAT(StoreAddresses(set), ElementsAre(a.address()));
  EXPECT_THAT(set.DiscoveryErrors(), ElementsAre(HasSubstr("no such host")));
}

TEST(EndpointSetTest, BackgroundRefreshPicksUpRecovery) {
  FakeStoreConfig cfg = Sidecar("east");
  cfg.info_fails = true;
  FakeStore store(cfg);
  ASSERT_TRUE(store.Start().ok());
  EndpointSet set(FastOptions({store.address()}));
  set.Start();
  while (!set.Ready())
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  cfg.info_fails = false;
  store.SetConfig(cfg);
  // Waits (without a time bound) until a background round has seen the recovery.
  while (set.Stores().empty())
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  set.Stop();
  EXPECT_EQ(set.Stores().size(), 1u);
}

}  // namespace
}  // namespace paodin::storeapi
