// libFuzzer target: decodes arbitrary bytes as an XOR chunk, whole and in small tiles, and
// checks that a successful decode re-encodes to a chunk that decodes to the same samples.
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "storeapi/chunkenc/xor.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using paodin::storeapi::DecodeXorChunk;
  using paodin::storeapi::EncodeXorChunk;
  using paodin::storeapi::XorDecoder;
  const std::string_view chunk(reinterpret_cast<const char*>(data), size);

  static std::vector<int64_t> ts(paodin::storeapi::kXorMaxSamples);
  static std::vector<double> vs(paodin::storeapi::kXorMaxSamples);
  absl::StatusOr<size_t> whole = DecodeXorChunk(chunk, ts, vs);

  XorDecoder dec;
  size_t tiled = 0;
  bool tiled_ok = dec.Reset(chunk).ok();
  while (tiled_ok) {
    int64_t tile_ts[7];
    double tile_vs[7];
    absl::StatusOr<size_t> n = dec.Next(tile_ts, tile_vs);
    if (!n.ok()) {
      tiled_ok = false;
      break;
    }
    if (*n == 0)
      break;
    for (size_t i = 0; i < *n; ++i) {
      if (tile_ts[i] != ts[tiled + i] ||
          std::bit_cast<uint64_t>(tile_vs[i]) != std::bit_cast<uint64_t>(vs[tiled + i])) {
        std::abort();  // tiles disagree with the whole-chunk decode
      }
    }
    tiled += *n;
  }
  if (whole.ok() != tiled_ok || (whole.ok() && *whole != tiled))
    std::abort();
  if (!whole.ok())
    return 0;

  std::vector<int64_t> got_ts(*whole);
  std::vector<double> got_vs(*whole);
  absl::StatusOr<std::string> again = EncodeXorChunk(std::span<const int64_t>(ts.data(), *whole),
                                                     std::span<const double>(vs.data(), *whole));
  if (!again.ok())
    std::abort();
  absl::StatusOr<size_t> n = DecodeXorChunk(*again, got_ts, got_vs);
  if (!n.ok() || *n != *whole)
    std::abort();
  for (size_t i = 0; i < *n; ++i) {
    if (got_ts[i] != ts[i] ||
        std::bit_cast<uint64_t>(got_vs[i]) != std::bit_cast<uint64_t>(vs[i])) {
      std::abort();
    }
  }
  return 0;
}
