// gzip (RFC 1952) compression of response bodies with zlib, whole or as a stream, and the
// Accept-Encoding check.
#ifndef PAODIN_HTTP_GZIP_H_
#define PAODIN_HTTP_GZIP_H_

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace paodin::http {

// True when an Accept-Encoding header value admits gzip: a "gzip" (or "*") coding whose q is
// not 0. Codings are compared case-insensitively.
bool AcceptsGzip(std::string_view accept_encoding);

// A streaming gzip compressor.
class GzipStream {
 public:
  // Default compression level, gzip framing.
  static absl::StatusOr<std::unique_ptr<GzipStream>> Create();
  ~GzipStream();
  GzipStream(const GzipStream&) = delete;
  GzipStream& operator=(const GzipStream&) = delete;

  // Compresses `data`, appending whatever output zlib releases to `out`.
  absl::Status Write(std::string_view data, std::string& out);

  // Flushes pending output so that the client can decode everything written so far
  // (Z_SYNC_FLUSH), appending it to `out`.
  absl::Status Flush(std::string& out);

  // Ends the stream (trailer included), appending the rest to `out`.
  absl::Status Finish(std::string& out);

 private:
  struct State;
  explicit GzipStream(std::unique_ptr<State> state);
  absl::Status Run(std::string_view data, int flush, std::string& out);
  std::unique_ptr<State> state_;
};

// Compresses a whole body.
absl::StatusOr<std::string> GzipCompress(std::string_view data);

// Decompresses a gzip body (for tests and clients).
absl::StatusOr<std::string> GzipDecompress(std::string_view data);

}  // namespace paodin::http

#endif  // PAODIN_HTTP_GZIP_H_
