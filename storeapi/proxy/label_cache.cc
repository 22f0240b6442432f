#include "storeapi/proxy/label_cache.h"

#include <initializer_list>
#include <iterator>
#include <limits>
#include <utility>

namespace paodin::storeapi {
namespace {

// Bookkeeping bytes per entry beyond its strings (list node, index slot, snapshot).
constexpr size_t kEntryOverhead = 256;

size_t EntryBytes(const std::string& key, const std::vector<std::string>& values) {
  size_t n = kEntryOverhead + key.size();
  for (const std::string& v : values)
    n += sizeof(std::string) + v.size();
  return n;
}

}  // namespace

LabelCache::InfoSnapshot LabelCache::InfoSnapshot::Of(const EndpointInfo& info) {
  return InfoSnapshot{info.component_type, info.label_sets, info.min_time, info.max_time};
}

bool LabelCache::InfoSnapshot::Matches(const EndpointInfo& info) const {
  return min_time == info.min_time && max_time == info.max_time &&
         component_type == info.component_type && label_sets == info.label_sets;
}

LabelCache::LabelCache(LabelCacheOptions options) : options_(options) {}

bool LabelCache::Cacheable(const EndpointInfo* info, int64_t now_ms) const {
  if (options_.ttl.count() <= 0 || info == nullptr ||
      info->max_time == std::numeric_limits<int64_t>::max()) {
    return false;
  }
  const int64_t settled = options_.settled_after.count();
  return info->max_time <= now_ms - settled;
}

std::string LabelCache::Key(std::string_view store, std::string_view method,
                            std::string_view tenant, std::string_view request) {
  // Store addresses, method names and tenants hold no NUL; the request bytes come last.
  std::string key;
  key.reserve(store.size() + method.size() + tenant.size() + request.size() + 3);
  for (std::string_view part : {store, method, tenant}) {
    key.append(part);
    key.push_back('\0');
  }
  key.append(request);
  return key;
}

std::optional<std::vector<std::string>> LabelCache::Get(const std::string& key,
                                                        const EndpointInfo& info,
                                                        Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = index_.find(std::string_view(key));
  if (it == index_.end()) {
    misses_.fetch_add(1, std::memory_order_relaxed);
    return std::nullopt;
  }
  List::iterator e = it->second;
  if (now - e->stored >= options_.ttl || !e->info.Matches(info)) {
    EraseLocked(e);
    misses_.fetch_add(1, std::memory_order_relaxed);
    return std::nullopt;
  }
  lru_.splice(lru_.begin(), lru_, e);
  hits_.fetch_add(1, std::memory_order_relaxed);
  return e->values;
}

void LabelCache::Put(std::string key, const EndpointInfo& info, std::vector<std::string> values,
                     Clock::time_point now) {
  const size_t n = EntryBytes(key, values);
  if (options_.ttl.count() <= 0 || n > options_.max_bytes)
    return;
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = index_.find(std::string_view(key)); it != index_.end())
    EraseLocked(it->second);
  while (!lru_.empty() && bytes_ + n > options_.max_bytes)
    EraseLocked(std::prev(lru_.end()));
  lru_.push_front(Entry{std::move(key), InfoSnapshot::Of(info), std::move(values), now, n});
  index_.emplace(std::string_view(lru_.front().key), lru_.begin());
  bytes_ += n;
}

void LabelCache::EraseLocked(List::iterator it) {
  bytes_ -= it->bytes;
  index_.erase(std::string_view(it->key));
  lru_.erase(it);
}

size_t LabelCache::entries() const {
  std::lock_guard<std::mutex> lock(mu_);
  return lru_.size();
}

size_t LabelCache::bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return bytes_;
}

}  // namespace paodin::storeapi
