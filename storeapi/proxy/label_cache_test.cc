#include "storeapi/proxy/label_cache.h"

#include <limits>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace paodin::storeapi {
namespace {

using ::testing::ElementsAre;
using ::testing::Optional;
using Clock = LabelCache::Clock;

constexpr int64_t kNowMs = 1'800'000'000'000;
constexpr int64_t kHourMs = 3'600'000;

EndpointInfo Settled() {
  EndpointInfo info;
  info.component_type = "store";
  info.label_sets = {*engine::Labels::FromPairs({{"cluster", "host"}})};
  info.min_time = kNowMs - 30 * kHourMs;
  info.max_time = kNowMs - 6 * kHourMs;
  return info;
}

TEST(LabelCacheTest, OnlySettledStoresAreCacheable) {
  LabelCache cache(LabelCacheOptions{});
  EndpointInfo info = Settled();
  EXPECT_TRUE(cache.Cacheable(&info, kNowMs));
  EXPECT_FALSE(cache.Cacheable(nullptr, kNowMs));
  // A sidecar advertises data until forever.
  info.max_time = std::numeric_limits<int64_t>::max();
  EXPECT_FALSE(cache.Cacheable(&info, kNowMs));
  // A receiver's data reaches now; settled only five minutes after its last sample.
  info.max_time = kNowMs - 1000;
  EXPECT_FALSE(cache.Cacheable(&info, kNowMs));
  info.max_time = kNowMs - 5 * 60 * 1000;
  EXPECT_TRUE(cache.Cacheable(&info, kNowMs));
  // A zero ttl turns the cache off.
  LabelCacheOptions off;
  off.ttl = std::chrono::milliseconds(0);
  LabelCache disabled(off);
  EXPECT_FALSE(disabled.Cacheable(&info, kNowMs));
}

TEST(LabelCacheTest, AnswersAreReusedUnderTheSameInfoWithinTheTtl) {
  LabelCache cache(LabelCacheOptions{});
  const EndpointInfo info = Settled();
  const Clock::time_point t0 = Clock::now();
  const std::string key = LabelCache::Key("10.0.0.1:10901", "LabelNames", "", "req");
  EXPECT_EQ(cache.Get(key, info, t0), std::nullopt);
  cache.Put(key, info, {"__name__", "job"}, t0);
  EXPECT_THAT(cache.Get(key, info, t0 + std::chrono::seconds(59)),
              Optional(ElementsAre("__name__", "job")));
  // Other stores, methods, tenants and requests are other keys.
  EXPECT_EQ(cache.Get(LabelCache::Key("10.0.0.2:10901", "LabelNames", "", "req"), info, t0),
            std::nullopt);
  EXPECT_EQ(cache.Get(LabelCache::Key("10.0.0.1:10901", "LabelValues", "", "req"), info, t0),
            std::nullopt);
  EXPECT_EQ(cache.Get(LabelCache::Key("10.0.0.1:10901", "LabelNames", "team-a", "req"), info, t0),
            std::nullopt);
  EXPECT_EQ(cache.Get(LabelCache::Key("10.0.0.1:10901", "LabelNames", "", "req2"), info, t0),
            std::nullopt);
  // Past the ttl the entry is gone.
  EXPECT_EQ(cache.Get(key, info, t0 + std::chrono::minutes(1)), std::nullopt);
  EXPECT_EQ(cache.entries(), 0u);
  EXPECT_EQ(cache.bytes(), 0u);
  EXPECT_EQ(cache.hits(), 1u);
  EXPECT_EQ(cache.misses(), 6u);
}

TEST(LabelCacheTest, AChangedInfoDropsTheAnswer) {
  const Clock::time_point t0 = Clock::now();
  const std::string key = LabelCache::Key("s:1", "LabelNames", "", "req");
  auto changed = [&](void (*change)(EndpointInfo&)) {
    LabelCache cache(LabelCacheOptions{});
    const EndpointInfo info = Settled();
    cache.Put(key, info, {"a"}, t0);
    EndpointInfo now = info;
    change(now);
    const bool dropped = !cache.Get(key, now, t0).has_value();
    // Dropped for good, not only hidden.
    return dropped && !cache.Get(key, info, t0).has_value();
  };
  EXPECT_TRUE(changed([](EndpointInfo& i) { i.max_time += 7'200'000; }));  // a new block
  EXPECT_TRUE(changed([](EndpointInfo& i) { i.min_time += 7'200'000; }));  // retention
  EXPECT_TRUE(changed([](EndpointInfo& i) {
    i.label_sets = {*engine::Labels::FromPairs({{"cluster", "member"}})};
  }));
  EXPECT_TRUE(changed([](EndpointInfo& i) { i.component_type = "receive"; }));
  EXPECT_FALSE(changed([](EndpointInfo&) {}));
}

TEST(LabelCacheTest, LeastRecentlyUsedGoFirstWithinTheByteBound) {
  LabelCacheOptions options;
  options.max_bytes = 3 * 1024;
  LabelCache cache(options);
  const EndpointInfo info = Settled();
  const Clock::time_point t0 = Clock::now();
  const std::vector<std::string> value = {std::string(500, 'v')};
  for (int i = 0; i < 3; ++i)
    cache.Put(LabelCache::Key("s", "m", "", std::to_string(i)), info, value, t0);
  // Touch 0, so 1 is the least recently used when 3 comes in.
  ASSERT_TRUE(cache.Get(LabelCache::Key("s", "m", "", "0"), info, t0).has_value());
  cache.Put(LabelCache::Key("s", "m", "", "3"), info, value, t0);
  EXPECT_LE(cache.bytes(), options.max_bytes);
  EXPECT_TRUE(cache.Get(LabelCache::Key("s", "m", "", "0"), info, t0).has_value());
  EXPECT_FALSE(cache.Get(LabelCache::Key("s", "m", "", "1"), info, t0).has_value());
  EXPECT_TRUE(cache.Get(LabelCache::Key("s", "m", "", "3"), info, t0).has_value());
  // An answer bigger than the whole cache is not kept (and evicts nothing).
  const size_t before = cache.entries();
  cache.Put(LabelCache::Key("s", "m", "", "big"), info, {std::string(4096, 'x')}, t0);
  EXPECT_EQ(cache.entries(), before);
  // Replacing a key keeps one entry.
  cache.Put(LabelCache::Key("s", "m", "", "3"), info, {"new"}, t0);
  EXPECT_THAT(cache.Get(LabelCache::Key("s", "m", "", "3"), info, t0),
              Optional(ElementsAre("new")));
  EXPECT_EQ(cache.entries(), before);
}

}  // namespace
}  // namespace paodin::storeapi
