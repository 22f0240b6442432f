// Fuzzes the engine: any query text is parsed and, when valid, evaluated as an instant and a
// short range query over a small fixed store. Errors are fine; crashes, sanitizer reports and
// hangs are not (the engine's timeout and sample limit bound the work).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "engine/exec/engine.h"
#include "engine/storage/memory_queryable.h"

namespace {

paodin::engine::MemoryQueryable* Store() {
  static auto* store = [] {
    auto* s = new paodin::engine::MemoryQueryable();
    const char* names[] = {"foo", "bar", "x"};
    for (int n = 0; n < 3; ++n) {
      for (int i = 0; i < 4; ++i) {
        auto l = *paodin::engine::Labels::FromPairs({{"__name__", names[n]},
                                                     {"job", i % 2 ? "a" : "b"},
                                                     {"le", i == 3 ? "+Inf" : std::to_string(i)},
                                                     {"i", std::to_string(i)}});
        for (int t = 0; t < 40; ++t) {
          double v = t == 20 ? paodin::engine::StaleNaN() : t * (i + 1) - (t == 30 ? 50 : 0);
          s->Add(l, t * 15000, v);
        }
      }
    }
    return s;
  }();
  return store;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 512)
    return 0;
  std::string_view query(reinterpret_cast<const char*>(data), size);
  paodin::engine::EngineOptions opts;
  opts.timeout_ms = 2000;
  opts.max_samples = 200000;
  opts.threads = (size % 2) + 1;
  opts.parallel_min_series = 1;
  paodin::engine::Engine engine(opts);
  (void)engine.InstantQuery(*Store(), query, 300000);
  (void)engine.RangeQuery(*Store(), query, 0, 600000, 60000);
  return 0;
}
