#include "tests/differential/loaders.h"

#include <algorithm>

#include <snappy.h>

#include "proto/prometheus/remote.pb.h"

#include "absl/strings/str_cat.h"
#include "engine/model/labels.h"
#include "engine/util/status_macros.h"
#include "tests/differential/http_client.h"

namespace paodin::differential {

std::string EncodeWriteRequest(const DataSet& data, int64_t from_ms, int64_t to_ms) {
  prometheus::WriteRequest req;
  for (const GenSeries& s : data.series) {
    auto lo = std::lower_bound(s.ts.begin(), s.ts.end(), from_ms);
    auto hi = std::lower_bound(s.ts.begin(), s.ts.end(), to_ms);
    if (lo == hi)
      continue;
    prometheus::TimeSeries* ts = req.add_timeseries();
    for (const auto& [name, value] : s.labels) {
      prometheus::Label* l = ts->add_labels();
      l->set_name(name);
      l->set_value(value);
    }
    for (auto it = lo; it != hi; ++it) {
      prometheus::Sample* sample = ts->add_samples();
      sample->set_timestamp(*it);
      sample->set_value(s.vs[it - s.ts.begin()]);
    }
  }
  std::string raw;
  req.SerializeToString(&raw);
  std::string compressed;
  snappy::Compress(raw.data(), raw.size(), &compressed);
  return compressed;
}

absl::StatusOr<int> RemoteWrite(int port, const DataSet& data, int64_t window_ms) {
  const std::vector<std::pair<std::string, std::string>> headers = {
      {"Content-Encoding", "snappy"},
      {"Content-Type", "application/x-protobuf"},
      {"X-Prometheus-Remote-Write-Version", "0.1.0"},
      {"User-Agent", "paodin-differential-test"},
  };
  int requests = 0;
  for (int64_t from = data.min_ms; from <= data.max_ms; from += window_ms) {
    std::string body = EncodeWriteRequest(data, from, from + window_ms);
    PAODIN_ASSIGN_OR_RETURN(HttpResponse r,
                            HttpRequest(port, "POST", "/api/v1/write", body, headers));
    if (r.status / 100 != 2) {
      return absl::InternalError(
          absl::StrCat("remote write rejected (HTTP ", r.status, "): ", r.body));
    }
    ++requests;
  }
  return requests;
}

absl::Status LoadMemStore(const DataSet& data, storeapi::MemStore& store) {
  for (const GenSeries& s : data.series) {
    PAODIN_ASSIGN_OR_RETURN(engine::Labels labels, engine::Labels::FromPairs(s.labels));
    PAODIN_ASSIGN_OR_RETURN(storeapi::MemStore::SeriesRef ref, store.GetOrCreateSeries(labels));
    PAODIN_RETURN_IF_ERROR(store.AppendSamples(ref, s.ts, s.vs));
  }
  return absl::OkStatus();
}

}  // namespace paodin::differential
