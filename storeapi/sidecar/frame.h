// The framing of Prometheus' streamed remote-read response (STREAMED_XOR_CHUNKS): a sequence of
// frames, each the uvarint length of a message, the big-endian CRC32 (Castagnoli) of the message,
// then the message bytes (a prometheus.ChunkedReadResponse, not compressed).
//
// The reader is fed the body piece by piece as it arrives and hands out whole frames, so a
// response is parsed while it streams and only one frame (plus one read) is held in memory:
//
//   ChunkedFrameReader reader(64 << 20);
//   while (body has more) {
//     reader.Feed(piece);
//     while (true) {
//       PAODIN_ASSIGN_OR_RETURN(std::optional<std::string_view> frame, reader.Next());
//       if (!frame) break;  // needs more bytes
//       ... parse *frame ...
//     }
//   }
//   PAODIN_RETURN_IF_ERROR(reader.Finish());  // the body must end on a frame boundary
#ifndef PAODIN_STOREAPI_SIDECAR_FRAME_H_
#define PAODIN_STOREAPI_SIDECAR_FRAME_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace paodin::storeapi {

// CRC32 with the Castagnoli polynomial (iSCSI, as Go's crc32.MakeTable(crc32.Castagnoli)).
// `crc` continues a previous checksum; start with 0.
uint32_t Crc32c(std::string_view data, uint32_t crc = 0);

// Appends one frame holding `message` to `out` (for tests and fake servers).
void AppendChunkedFrame(std::string_view message, std::string* out);

// Splits a streamed remote-read body into frames and checks their CRCs.
class ChunkedFrameReader {
 public:
  // Frames whose declared length exceeds `max_frame_bytes` are rejected (Prometheus writes
  // frames of about 1 MiB; a length far above that means a corrupt or foreign stream).
  explicit ChunkedFrameReader(size_t max_frame_bytes);

  // Appends the next bytes of the body.
  void Feed(std::string_view bytes);

  // The next complete frame's message, or nullopt when more bytes are needed. The view stays
  // valid until the next call to Feed or Next. Fails with DataLoss on a CRC mismatch, a
  // malformed length or a frame larger than the limit; after an error the reader stays failed.
  absl::StatusOr<std::optional<std::string_view>> Next();

  // Call at the end of the body: DataLoss when it ended inside a frame.
  absl::Status Finish() const;

  // Frames returned so far.
  int64_t frames() const { return frames_; }

  // Bytes fed but not yet returned in a frame.
  size_t buffered() const { return buf_.size() - pos_; }

 private:
  size_t max_frame_bytes_;
  std::string buf_;
  size_t pos_ = 0;
  int64_t frames_ = 0;
  absl::Status error_;
};

}  // namespace paodin::storeapi

#endif  // PAODIN_STOREAPI_SIDECAR_FRAME_H_
