// Answers of stores to label calls (LabelNames, LabelValues), reused while the store's data is
// settled. A Thanos store gateway or a `paodin store` over blocks serves data that changes only
// when blocks come and go, and then its advertised time range (the Info the endpoint refresh
// reads) changes too. So an answer is reused only while all of this holds:
//   - the store's data ends at least `settled_after` before now, and not open-ended (a sidecar
//     advertises "until forever", a receiver's data reaches now: neither is ever cached);
//   - the store's Info (component, external label sets, time range) is what it was when the
//     answer came;
//   - the answer is younger than `ttl` (a bound for changes that leave the Info alone);
//   - the answer carried no warnings.
// Everything else asks the store, as before. Least recently used answers go first once
// `max_bytes` is reached. Thread-safe.
#ifndef PAODIN_STOREAPI_PROXY_LABEL_CACHE_H_
#define PAODIN_STOREAPI_PROXY_LABEL_CACHE_H_

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "engine/model/labels.h"
#include "storeapi/client/store_client.h"

namespace paodin::storeapi {

struct LabelCacheOptions {
  // --query.label-cache-ttl: how long an answer may be reused; zero disables the cache.
  std::chrono::milliseconds ttl{std::chrono::minutes(1)};
  // Bytes of answers (keys and values) held at most.
  size_t max_bytes = 32 << 20;
  // A store whose data ends later than this before now still ingests: never cached.
  std::chrono::milliseconds settled_after{std::chrono::minutes(5)};
};

class LabelCache {
 public:
  using Clock = std::chrono::steady_clock;

  explicit LabelCache(LabelCacheOptions options);

  // Whether answers of a store advertising `info` may be cached when the wall clock reads
  // `now_ms` (Unix ms). False for a null info (a store that never answered Info).
  bool Cacheable(const EndpointInfo* info, int64_t now_ms) const;

  // The key of one call: the store, the method, the tenant and the serialized request.
  static std::string Key(std::string_view store, std::string_view method, std::string_view tenant,
                         std::string_view request);

  // The answer stored under `key` if it was given under the same Info and is younger than the
  // ttl; a stale entry is dropped.
  std::optional<std::vector<std::string>> Get(const std::string& key, const EndpointInfo& info,
                                              Clock::time_point now);

  // Stores an answer given under `info` at `now` (replacing any older one).
  void Put(std::string key, const EndpointInfo& info, std::vector<std::string> values,
           Clock::time_point now);

  // Entries and bytes held, and lookups so far that found a valid answer or not (metrics).
  size_t entries() const;
  size_t bytes() const;

  uint64_t hits() const { return hits_.load(std::memory_order_relaxed); }

  uint64_t misses() const { return misses_.load(std::memory_order_relaxed); }

 private:
  // What an answer depends on in the store's Info.
  struct InfoSnapshot {
    std::string component_type;
    std::vector<engine::Labels> label_sets;
    int64_t min_time = 0;
    int64_t max_time = 0;

    static InfoSnapshot Of(const EndpointInfo& info);
    bool Matches(const EndpointInfo& info) const;
  };

  struct Entry {
    std::string key;
    InfoSnapshot info;
    std::vector<std::string> values;
    Clock::time_point stored;
    size_t bytes = 0;
  };

  using List = std::list<Entry>;

  void EraseLocked(List::iterator it);

  const LabelCacheOptions options_;
  mutable std::mutex mu_;
  List lru_;                                                     // most recently used first
  absl::flat_hash_map<std::string_view, List::iterator> index_;  // keys point into lru_
  size_t bytes_ = 0;
  std::atomic<uint64_t> hits_{0};
  std::atomic<uint64_t> misses_{0};
};

}  // namespace paodin::storeapi

#endif  // PAODIN_STOREAPI_PROXY_LABEL_CACHE_H_
