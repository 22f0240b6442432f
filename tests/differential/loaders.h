// Loading the generated data set into both sides: Prometheus by remote write (snappy-compressed
// prometheus.WriteRequest, sent in time order in windows so its head accepts every sample) and
// our in-memory store.
#ifndef PAODIN_TESTS_DIFFERENTIAL_LOADERS_H_
#define PAODIN_TESTS_DIFFERENTIAL_LOADERS_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "storeapi/memstore/memstore.h"
#include "tests/differential/data_gen.h"

namespace paodin::differential {

// Builds the snappy-compressed WriteRequest body holding the samples of `data` with
// timestamps in [from_ms, to_ms).
std::string EncodeWriteRequest(const DataSet& data, int64_t from_ms, int64_t to_ms);

// Sends `data` to the remote-write receiver of the Prometheus on 127.0.0.1:`port`, one request
// per `window_ms` of time, oldest first. Returns the number of requests. Fails with Unavailable
// on a connection error and Internal when Prometheus rejects a request (its answer quoted).
absl::StatusOr<int> RemoteWrite(int port, const DataSet& data, int64_t window_ms = 10 * 60000);

// Appends every sample of `data` to `store`. Fails with the store's error.
absl::Status LoadMemStore(const DataSet& data, storeapi::MemStore& store);

}  // namespace paodin::differential

#endif  // PAODIN_TESTS_DIFFERENTIAL_LOADERS_H_
