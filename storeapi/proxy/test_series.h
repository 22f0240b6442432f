// Test helpers: StoreSeries built from samples (tests only).
#ifndef PAODIN_STOREAPI_PROXY_TEST_SERIES_H_
#define PAODIN_STOREAPI_PROXY_TEST_SERIES_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "engine/storage/queryable.h"
#include "storeapi/chunkenc/xor.h"
#include "storeapi/client/series_stream.h"

namespace paodin::storeapi::testing {

struct TS {
  int64_t t;
  double v;

  friend bool operator==(const TS& a, const TS& b) { return a.t == b.t && a.v == b.v; }
};

// An XOR chunk of the given samples.
inline StoreChunk Chunk(const std::vector<TS>& samples, uint32_t store = 0) {
  XorEncoder enc;
  for (const TS& s : samples)
    (void)enc.Append(s.t, s.v);
  StoreChunk c;
  c.min_time = samples.front().t;
  c.max_time = samples.back().t;
  c.SetOwnedCopy(enc.bytes());
  c.store_index = store;
  return c;
}

inline StoreSeries Series(std::vector<std::pair<std::string, std::string>> labels,
                          std::vector<StoreChunk> chunks) {
  StoreSeries s;
  s.labels = *engine::Labels::FromPairs(std::move(labels));
  s.chunks = std::move(chunks);
  return s;
}

// Every sample of an iterator, read in tiles of `tile`.
inline absl::StatusOr<std::vector<TS>> ReadAll(engine::SampleIterator& it, size_t tile = 7) {
  std::vector<TS> out;
  std::vector<int64_t> ts(tile);
  std::vector<double> vs(tile);
  for (;;) {
    absl::StatusOr<size_t> n = it.Next(ts, vs);
    if (!n.ok())
      return n.status();
    if (*n == 0)
      return out;
    for (size_t i = 0; i < *n; ++i)
      out.push_back({ts[i], vs[i]});
  }
}

}  // namespace paodin::storeapi::testing

#endif  // PAODIN_STOREAPI_PROXY_TEST_SERIES_H_
