#include "engine/exec/result_builder.h"

#include <algorithm>

namespace paodin::engine::exec {

namespace {

// True when every step's ids are strictly increasing.
bool IdsIncreasing(std::span<const StepVector> steps) {
  for (const StepVector& sv : steps) {
    const uint32_t* ids = sv.ids.data();
    const size_t m = sv.ids.size();
    bool ok = true;
    for (size_t k = 1; k < m; ++k)
      ok &= ids[k - 1] < ids[k];
    if (!ok)
      return false;
  }
  return true;
}

// Makes room for a point at each of the next `steps_left` steps.
void Reserve(ResultSeries& rs, int64_t steps_left) {
  const size_t want = rs.ts.size() + static_cast<size_t>(steps_left);
  if (rs.ts.capacity() < want) {
    rs.ts.reserve(want);
    rs.vs.reserve(want);
  }
}

}  // namespace

void AppendBatchToSeries(std::span<const StepVector> steps, uint32_t lo, uint32_t hi,
                         int64_t steps_left, std::vector<ResultSeries>& out) {
  const size_t n = steps.size();
  if (n == 0 || lo >= hi)
    return;
  size_t entries = 0;
  for (const StepVector& sv : steps)
    entries += sv.size();
  const size_t width = hi - lo;
  // Walking series by series costs width * n probes; worth it unless the batch is sparse.
  if (entries * 4 < width * n || !IdsIncreasing(steps)) {
    for (const StepVector& sv : steps) {
      for (size_t k = 0; k < sv.size(); ++k) {
        const uint32_t id = sv.ids[k];
        if (id < lo || id >= hi)
          continue;
        ResultSeries& rs = out[id];
        rs.ts.push_back(sv.t);
        rs.vs.push_back(sv.vals[k]);
      }
    }
    return;
  }
  // One cursor per step, each positioned at the first id >= lo.
  std::vector<const uint32_t*> cur(n), end(n);
  std::vector<const double*> val(n);
  std::vector<uint32_t> hit(n);
  for (size_t i = 0; i < n; ++i) {
    const uint32_t* b = steps[i].ids.data();
    const uint32_t* e = b + steps[i].ids.size();
    cur[i] = std::lower_bound(b, e, lo);
    end[i] = std::lower_bound(cur[i], e, hi);
    val[i] = steps[i].vals.data() + (cur[i] - b);
  }
  for (uint32_t id = lo; id < hi; ++id) {
    size_t c = 0;
    for (size_t i = 0; i < n; ++i) {
      hit[c] = static_cast<uint32_t>(i);
      c += cur[i] != end[i] && *cur[i] == id;
    }
    if (c == 0)
      continue;
    ResultSeries& rs = out[id];
    if (c == n)
      Reserve(rs, steps_left);
    for (size_t k = 0; k < c; ++k) {
      const uint32_t i = hit[k];
      rs.ts.push_back(steps[i].t);
      rs.vs.push_back(*val[i]);
      ++cur[i];
      ++val[i];
    }
  }
}

}  // namespace paodin::engine::exec
