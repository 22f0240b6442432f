#include "storeapi/sidecar/frame.h"

#include <array>

#include <fmt/format.h>

namespace paodin::storeapi {
namespace {

// Slicing-by-8 tables for the reflected Castagnoli polynomial.
struct Crc32cTables {
  std::array<std::array<uint32_t, 256>, 8> t;

  constexpr Crc32cTables() : t() {
    constexpr uint32_t kPoly = 0x82F63B78u;
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) {
        c = (c & 1) ? (c >> 1) ^ kPoly : c >> 1;
      }
      t[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; ++i) {
      for (size_t s = 1; s < 8; ++s) {
        t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xFF];
      }
    }
  }
};

constexpr Crc32cTables kTables;

constexpr size_t kMaxVarintBytes = 10;

}  // namespace

uint32_t Crc32c(std::string_view data, uint32_t crc) {
  const auto& t = kTables.t;
  uint32_t c = ~crc;
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  size_t n = data.size();
  while (n >= 8) {
    const uint32_t lo = c ^ (static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 |
                             static_cast<uint32_t>(p[2]) << 16 | static_cast<uint32_t>(p[3]) << 24);
    c = t[7][lo & 0xFF] ^ t[6][(lo >> 8) & 0xFF] ^ t[5][(lo >> 16) & 0xFF] ^ t[4][lo >> 24] ^
        t[3][p[4]] ^ t[2][p[5]] ^ t[1][p[6]] ^ t[0][p[7]];
    p += 8;
    n -= 8;
  }
  while (n-- > 0) {
    c = t[0][(c ^ *p++) & 0xFF] ^ (c >> 8);
  }
  return ~c;
}

void AppendChunkedFrame(std::string_view message, std::string* out) {
  uint64_t n = message.size();
  while (n >= 0x80) {
    out->push_back(static_cast<char>((n & 0x7F) | 0x80));
    n >>= 7;
  }
  out->push_back(static_cast<char>(n));
  const uint32_t crc = Crc32c(message);
  for (int shift = 24; shift >= 0; shift -= 8) {
    out->push_back(static_cast<char>((crc >> shift) & 0xFF));
  }
  out->append(message);
}

ChunkedFrameReader::ChunkedFrameReader(size_t max_frame_bytes)
    : max_frame_bytes_(max_frame_bytes) {}

void ChunkedFrameReader::Feed(std::string_view bytes) {
  if (pos_ > 0 && (pos_ == buf_.size() || pos_ >= buf_.size() / 2)) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  buf_.append(bytes);
}

absl::StatusOr<std::optional<std::string_view>> ChunkedFrameReader::Next() {
  if (!error_.ok()) {
    return error_;
  }
  const std::string_view rest(buf_.data() + pos_, buf_.size() - pos_);
  // Uvarint length.
  uint64_t len = 0;
  size_t header = 0;
  for (int shift = 0;; shift += 7) {
    if (header == rest.size()) {
      return std::nullopt;
    }
    if (header == kMaxVarintBytes) {
      error_ = absl::DataLossError(
          fmt::format("remote read frame {}: malformed length (varint longer than {} bytes)",
                      frames_, kMaxVarintBytes));
      return error_;
    }
    const auto b = static_cast<unsigned char>(rest[header++]);
    len |= static_cast<uint64_t>(b & 0x7F) << shift;
    if ((b & 0x80) == 0) {
      break;
    }
  }
  if (len > max_frame_bytes_) {
    error_ = absl::DataLossError(
        fmt::format("remote read frame {}: message size {} bytes exceeds the limit of {} bytes",
                    frames_, len, max_frame_bytes_));
    return error_;
  }
  if (rest.size() - header < 4 + len) {
    return std::nullopt;
  }
  const auto* c = reinterpret_cast<const unsigned char*>(rest.data() + header);
  const uint32_t want = static_cast<uint32_t>(c[0]) << 24 | static_cast<uint32_t>(c[1]) << 16 |
                        static_cast<uint32_t>(c[2]) << 8 | static_cast<uint32_t>(c[3]);
  const std::string_view message = rest.substr(header + 4, len);
  const uint32_t got = Crc32c(message);
  if (got != want) {
    error_ = absl::DataLossError(
        fmt::format("remote read frame {}: CRC32C mismatch (frame says {:08x}, data has {:08x})",
                    frames_, want, got));
    return error_;
  }
  pos_ += header + 4 + len;
  ++frames_;
  return message;
}

absl::Status ChunkedFrameReader::Finish() const {
  if (!error_.ok()) {
    return error_;
  }
  if (buffered() != 0) {
    return absl::DataLossError(fmt::format(
        "remote read stream cut inside frame {} ({} bytes of it received)", frames_, buffered()));
  }
  return absl::OkStatus();
}

}  // namespace paodin::storeapi
