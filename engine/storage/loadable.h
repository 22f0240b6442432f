// A Queryable that samples can be loaded into one by one: what PromQL test scripts (`load`,
// `clear`) and engine tests need from a store. The engine itself only reads (Queryable).
#ifndef PAODIN_ENGINE_STORAGE_LOADABLE_H_
#define PAODIN_ENGINE_STORAGE_LOADABLE_H_

#include <cstdint>

#include "absl/status/status.h"
#include "engine/model/labels.h"
#include "engine/storage/queryable.h"

namespace paodin::engine {

// A store test scripts load into.
class LoadableQueryable : public Queryable {
 public:
  // Adds one sample of the series `labels`; a sample at the timestamp of an existing one
  // replaces it (last write wins, as within one Prometheus append batch). Stores that need
  // increasing timestamps per series fail with InvalidArgument on an earlier one.
  virtual absl::Status Load(const Labels& labels, int64_t t_ms, double value) = 0;

  // Removes every series.
  virtual void Clear() = 0;
};

}  // namespace paodin::engine

#endif  // PAODIN_ENGINE_STORAGE_LOADABLE_H_
