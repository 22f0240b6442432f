// Prometheus XOR chunk codec (tsdb encoding 1), bit-exact with Prometheus 2.42.
//
// A chunk's data is: a big-endian uint16 sample count; sample 0 as a zig-zag varint timestamp
// and the raw 64 value bits; sample 1 as an unsigned varint timestamp delta and an XOR-coded
// value; every later sample as a bucketed timestamp delta-of-delta and an XOR-coded value.
// These are the same bytes as in TSDB block files and in StoreAPI / remote-read Chunk.data.
//
// Values are carried as doubles but compared and coded by their bit patterns, so NaN payloads
// (the staleness marker 0x7ff0000000000002 in particular) survive a round trip unchanged.
#ifndef PAODIN_STOREAPI_CHUNKENC_XOR_H_
#define PAODIN_STOREAPI_CHUNKENC_XOR_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace paodin::storeapi {

// The most samples one XOR chunk can hold (the header count is a uint16).
inline constexpr int kXorMaxSamples = 65535;

// Builds one XOR chunk sample by sample, producing exactly the bytes Prometheus' xorAppender
// writes for the same input. Timestamps are not required to increase (Prometheus' appender does
// not check either); differences wrap like Go's uint64 arithmetic.
class XorEncoder {
 public:
  // An empty chunk: bytes() is the two-byte header {0, 0}.
  XorEncoder();

  // Appends one sample. Fails with kResourceExhausted once the chunk holds kXorMaxSamples.
  absl::Status Append(int64_t t, double v);

  // Number of samples appended so far.
  int num_samples() const { return num_samples_; }

  // The chunk bytes so far, valid until the next Append or Reset.
  std::string_view bytes() const { return std::string_view(buf_.data(), buf_.size()); }

  // Starts a new, empty chunk (keeps the buffer's capacity).
  void Reset();

 private:
  // Appends the low `nbits` bits of `value`, most significant first (1 <= nbits <= 64).
  void WriteBits(uint64_t value, int nbits);
  void WriteValue(uint64_t vbits);

  std::string buf_;
  int free_bits_ = 0;  // unused low bits in the last byte of buf_
  int num_samples_ = 0;
  int64_t t_ = 0;
  uint64_t t_delta_ = 0;
  uint64_t vbits_ = 0;
  int leading_ = -1;  // -1: no XOR window written yet
  int trailing_ = 0;
};

// Encodes ts[i], vs[i] pairs into one chunk. REQUIRES-like checks become errors: the spans
// must have equal sizes (kInvalidArgument) of at most kXorMaxSamples (kResourceExhausted).
absl::StatusOr<std::string> EncodeXorChunk(std::span<const int64_t> ts, std::span<const double> vs);

// Returns the sample count in a chunk's header; kInvalidArgument if `chunk` is shorter than 2.
absl::StatusOr<int> XorNumSamples(std::string_view chunk);

// Decodes an XOR chunk in tiles into caller-provided arrays, without allocating and without a
// per-sample virtual call. Reads the input through a 64-bit window loaded 8 bytes at a time and
// never touches memory outside `chunk`. Malformed input (truncated, a count larger than the
// bits allow, invalid varints or XOR windows) yields an error status, never a crash.
//
//   XorDecoder dec;
//   PAODIN_RETURN_IF_ERROR(dec.Reset(chunk));
//   int64_t ts[64]; double vs[64];
//   for (;;) {
//     PAODIN_ASSIGN_OR_RETURN(size_t n, dec.Next(ts, vs));
//     if (n == 0) break;
//     ...consume ts[0..n), vs[0..n)...
//   }
//
// The decoder keeps a pointer into `chunk`; the bytes must outlive the decoding.
class XorDecoder {
 public:
  XorDecoder() = default;

  // Starts decoding `chunk`. Fails with kInvalidArgument (and leaves the decoder at its end) if
  // the header is missing or the count needs more bits than the chunk has.
  absl::Status Reset(std::string_view chunk);

  // Sample count from the header of the chunk given to Reset.
  int num_samples() const { return num_total_; }

  // Samples not yet returned by Next.
  int remaining() const { return num_total_ - num_read_; }

  // Decodes the next min(ts.size(), vs.size(), remaining()) samples into ts[0..n) and
  // vs[0..n) and returns n; 0 once the chunk is exhausted. On corrupt input returns
  // kInvalidArgument (contents of the arrays are then unspecified) and keeps failing.
  absl::StatusOr<size_t> Next(std::span<int64_t> ts, std::span<double> vs);

 private:
  uint64_t Peek(uint64_t pos) const;
  uint64_t SlowLoad(uint64_t byte_pos) const;
  absl::Status Fail(std::string_view what);
  absl::Status DecodeFirstTwo(int64_t* t, double* v);

  const uint8_t* data_ = nullptr;
  uint64_t size_ = 0;
  uint64_t fast_end_ = 0;   // 8-byte loads at byte offsets below this stay inside data_
  uint64_t tail_base_ = 0;  // byte offset of tail_[0]
  uint64_t end_bits_ = 0;
  uint64_t pos_ = 0;  // next bit to read
  int num_total_ = 0;
  int num_read_ = 0;
  uint64_t t_ = 0;
  uint64_t t_delta_ = 0;
  uint64_t vbits_ = 0;
  int leading_ = 0;
  int trailing_ = 0;
  bool window_set_ = false;
  bool failed_ = false;
  // The last up-to-8 bytes of the chunk followed by zeros, so loads near or past the end
  // read zeros instead of foreign memory.
  uint8_t tail_[64] = {};
};

// Decodes a whole chunk into ts and vs, which must each hold at least XorNumSamples(chunk)
// elements (else kInvalidArgument). Returns the number of samples decoded.
absl::StatusOr<size_t> DecodeXorChunk(std::string_view chunk, std::span<int64_t> ts,
                                      std::span<double> vs);

// XXH64 with seed 0 of a chunk's data bytes: the StoreAPI Chunk.hash.
uint64_t ChunkHash(std::string_view data);

}  // namespace paodin::storeapi

#endif  // PAODIN_STOREAPI_CHUNKENC_XOR_H_
