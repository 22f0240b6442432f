#include "storeapi/chunkenc/xor.h"

#include <algorithm>
#include <bit>
#include <cstring>

#include <xxhash.h>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "absl/strings/str_cat.h"

namespace paodin::storeapi {
namespace {

// Timestamp delta-of-delta buckets: prefix 10/110/1110 carry 14/17/20 bits, 1111 carries 64.
// A bucket of n bits holds -(2^(n-1) - 1) .. 2^(n-1).
constexpr bool FitsBucket(int64_t dod, int nbits) {
  const int64_t half = int64_t{1} << (nbits - 1);
  return dod >= -(half - 1) && dod <= half;
}

ABSL_ATTRIBUTE_ALWAYS_INLINE inline uint64_t LoadBigEndian64(const uint8_t* p) {
  uint64_t w;
  std::memcpy(&w, p, sizeof(w));
  if constexpr (std::endian::native == std::endian::little) {
    w = __builtin_bswap64(w);
  }
  return w;
}

// Sample 0 needs at least a 1-byte varint and 64 value bits, sample 1 a 1-byte varint and a
// 1-bit value, every later sample a 1-bit dod and a 1-bit value.
uint64_t MinBitsFor(int count) {
  uint64_t bits = 16;
  if (count >= 1)
    bits += 8 + 64;
  if (count >= 2)
    bits += 8 + 1;
  if (count >= 3)
    bits += 2 * static_cast<uint64_t>(count - 2);
  return bits;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Encoder.

XorEncoder::XorEncoder() { Reset(); }

void XorEncoder::Reset() {
  buf_.assign(2, '\0');
  free_bits_ = 0;
  num_samples_ = 0;
  t_ = 0;
  t_delta_ = 0;
  vbits_ = 0;
  leading_ = -1;
  trailing_ = 0;
}

void XorEncoder::WriteBits(uint64_t value, int nbits) {
  if (nbits < 64)
    value &= (uint64_t{1} << nbits) - 1;
  while (nbits > 0) {
    if (free_bits_ == 0) {
      buf_.push_back('\0');
      free_bits_ = 8;
    }
    const int take = std::min(free_bits_, nbits);
    const uint64_t part = (value >> (nbits - take)) & ((uint64_t{1} << take) - 1);
    buf_.back() = static_cast<char>(static_cast<uint8_t>(buf_.back()) |
                                    static_cast<uint8_t>(part << (free_bits_ - take)));
    free_bits_ -= take;
    nbits -= take;
  }
}

void XorEncoder::WriteValue(uint64_t vbits) {
  const uint64_t x = vbits ^ vbits_;
  if (x == 0) {
    WriteBits(0, 1);
    return;
  }
  WriteBits(1, 1);
  const int leading = std::min(std::countl_zero(x), 31);
  const int trailing = std::countr_zero(x);
  if (leading_ >= 0 && leading >= leading_ && trailing >= trailing_) {
    WriteBits(0, 1);
    WriteBits(x >> trailing_, 64 - leading_ - trailing_);
    return;
  }
  leading_ = leading;
  trailing_ = trailing;
  const int sigbits = 64 - leading - trailing;
  WriteBits(1, 1);
  WriteBits(static_cast<uint64_t>(leading), 5);
  WriteBits(static_cast<uint64_t>(sigbits), 6);  // 64 does not fit: its low 6 bits are 0
  WriteBits(x >> trailing, sigbits);
}

absl::Status XorEncoder::Append(int64_t t, double v) {
  if (num_samples_ >= kXorMaxSamples) {
    return absl::ResourceExhaustedError(
        absl::StrCat("XOR chunk is full (", kXorMaxSamples, " samples)"));
  }
  const uint64_t vbits = std::bit_cast<uint64_t>(v);
  const uint64_t ut = static_cast<uint64_t>(t);
  uint64_t t_delta = 0;
  if (num_samples_ == 0) {
    uint64_t zz = (ut << 1) ^ static_cast<uint64_t>(t >> 63);
    while (zz >= 0x80) {
      WriteBits((zz & 0x7f) | 0x80, 8);
      zz >>= 7;
    }
    WriteBits(zz, 8);
    WriteBits(vbits, 64);
  } else if (num_samples_ == 1) {
    t_delta = ut - static_cast<uint64_t>(t_);
    uint64_t u = t_delta;
    while (u >= 0x80) {
      WriteBits((u & 0x7f) | 0x80, 8);
      u >>= 7;
    }
    WriteBits(u, 8);
    WriteValue(vbits);
  } else {
    t_delta = ut - static_cast<uint64_t>(t_);
    const int64_t dod = static_cast<int64_t>(t_delta - t_delta_);
    const uint64_t udod = static_cast<uint64_t>(dod);
    if (dod == 0) {
      WriteBits(0, 1);
    } else if (FitsBucket(dod, 14)) {
      WriteBits(0b10, 2);
      WriteBits(udod, 14);
    } else if (FitsBucket(dod, 17)) {
      WriteBits(0b110, 3);
      WriteBits(udod, 17);
    } else if (FitsBucket(dod, 20)) {
      WriteBits(0b1110, 4);
      WriteBits(udod, 20);
    } else {
      WriteBits(0b1111, 4);
      WriteBits(udod, 64);
    }
    WriteValue(vbits);
  }
  t_ = t;
  t_delta_ = t_delta;
  vbits_ = vbits;
  ++num_samples_;
  buf_[0] = static_cast<char>(num_samples_ >> 8);
  buf_[1] = static_cast<char>(num_samples_ & 0xff);
  return absl::OkStatus();
}

absl::StatusOr<std::string> EncodeXorChunk(std::span<const int64_t> ts,
                                           std::span<const double> vs) {
  if (ts.size() != vs.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("EncodeXorChunk: ", ts.size(), " timestamps but ", vs.size(), " values"));
  }
  if (ts.size() > static_cast<size_t>(kXorMaxSamples)) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "EncodeXorChunk: ", ts.size(), " samples exceed the chunk limit of ", kXorMaxSamples));
  }
  XorEncoder enc;
  for (size_t i = 0; i < ts.size(); ++i) {
    if (absl::Status st = enc.Append(ts[i], vs[i]); !st.ok())
      return st;
  }
  return std::string(enc.bytes());
}

absl::StatusOr<int> XorNumSamples(std::string_view chunk) {
  if (chunk.size() < 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("XOR chunk too short for its header: ", chunk.size(), " bytes"));
  }
  return (static_cast<uint8_t>(chunk[0]) << 8) | static_cast<uint8_t>(chunk[1]);
}

// ---------------------------------------------------------------------------------------------
// Decoder.

absl::Status XorDecoder::Reset(std::string_view chunk) {
  data_ = reinterpret_cast<const uint8_t*>(chunk.data());
  size_ = chunk.size();
  fast_end_ = size_ >= 8 ? size_ - 7 : 0;
  tail_base_ = size_ > 16 ? size_ - 16 : 0;
  std::memset(tail_, 0, sizeof(tail_));
  if (size_ >= 16) {
    std::memcpy(tail_, data_ + tail_base_, 16);  // a fixed size: inlined, no libc call
  } else if (size_ > 0) {
    std::memcpy(tail_, data_, size_);
  }
  end_bits_ = size_ * 8;
  pos_ = 16;
  num_total_ = 0;
  num_read_ = 0;
  t_ = 0;
  t_delta_ = 0;
  vbits_ = 0;
  leading_ = 0;
  trailing_ = 0;
  window_set_ = false;
  failed_ = false;
  absl::StatusOr<int> count = XorNumSamples(chunk);
  if (!count.ok()) {
    failed_ = true;
    return count.status();
  }
  if (MinBitsFor(*count) > end_bits_) {
    failed_ = true;
    return absl::InvalidArgumentError(absl::StrCat(
        "XOR chunk header claims ", *count, " samples but the chunk has only ", size_, " bytes"));
  }
  num_total_ = *count;
  return absl::OkStatus();
}

uint64_t XorDecoder::SlowLoad(uint64_t byte_pos) const {
  // Anything past the tail reads as zeros; the caller detects the overrun by position.
  const uint64_t idx = std::min<uint64_t>(byte_pos - tail_base_, sizeof(tail_) - 16);
  return LoadBigEndian64(tail_ + idx);
}

// Returns the 64 bits starting at bit `pos`, all valid (one more byte than Peek).
ABSL_ATTRIBUTE_ALWAYS_INLINE inline uint64_t XorDecoder::Peek64(uint64_t pos) const {
  const uint64_t byte_pos = pos >> 3;
  const unsigned shift = pos & 7;
  uint64_t w;
  uint64_t next;
  if (ABSL_PREDICT_TRUE(byte_pos + 1 < fast_end_)) {
    w = LoadBigEndian64(data_ + byte_pos);
    next = data_[byte_pos + 8];
  } else {
    const uint64_t idx = std::min<uint64_t>(byte_pos - tail_base_, sizeof(tail_) - 16);
    w = LoadBigEndian64(tail_ + idx);
    next = tail_[idx + 8];
  }
  return (w << shift) | (next >> (8 - shift));
}

// Returns the 64 bits starting at bit `pos`; at least the top 57 are valid.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline uint64_t XorDecoder::Peek(uint64_t pos) const {
  const uint64_t byte_pos = pos >> 3;
  const uint64_t w = ABSL_PREDICT_TRUE(byte_pos < fast_end_) ? LoadBigEndian64(data_ + byte_pos)
                                                             : SlowLoad(byte_pos);
  return w << (pos & 7);
}

absl::Status XorDecoder::Fail(std::string_view what) {
  failed_ = true;
  return absl::InvalidArgumentError(
      absl::StrCat("corrupt XOR chunk: ", absl::string_view(what.data(), what.size()),
                   " at sample ", num_read_, " (bit ", pos_, ")"));
}

namespace {

// Reads a Go-style unsigned varint from the bit stream; false on overflow.
template <typename PeekFn>
bool ReadUvarint(PeekFn peek, uint64_t& pos, uint64_t& out) {
  uint64_t x = 0;
  for (int i = 0, shift = 0; i < 10; ++i, shift += 7) {
    const uint64_t b = peek(pos) >> 56;
    pos += 8;
    if (b < 0x80) {
      if (i == 9 && b > 1)
        return false;
      out = x | (b << shift);
      return true;
    }
    x |= (b & 0x7f) << shift;
  }
  return false;
}

}  // namespace

absl::Status XorDecoder::DecodeFirstTwo(int64_t* t, double* v) {
  auto peek = [this](uint64_t p) { return Peek(p); };
  if (num_read_ == 0) {
    uint64_t zz;
    if (!ReadUvarint(peek, pos_, zz))
      return Fail("timestamp varint overflows");
    t_ = (zz >> 1) ^ (~(zz & 1) + 1);
    vbits_ = (Peek(pos_) >> 32) << 32 | (Peek(pos_ + 32) >> 32);
    pos_ += 64;
  } else {
    if (!ReadUvarint(peek, pos_, t_delta_))
      return Fail("timestamp delta varint overflows");
    t_ += t_delta_;
    uint64_t w = Peek(pos_);
    if (w >> 63) {
      if (((w >> 62) & 1) == 0)
        return Fail("XOR window reused before one was set");
      leading_ = static_cast<int>((w >> 57) & 31);
      int m = static_cast<int>((w >> 51) & 63);
      if (m == 0)
        m = 64;
      if (leading_ + m > 64)
        return Fail("XOR window wider than 64 bits");
      trailing_ = 64 - leading_ - m;
      window_set_ = true;
      pos_ += 13;
      uint64_t bits;
      if (m <= 32) {
        bits = Peek(pos_) >> (64 - m);
      } else {
        bits = ((Peek(pos_) >> 32) << (m - 32)) | (Peek(pos_ + 32) >> (96 - m));
      }
      pos_ += m;
      vbits_ ^= bits << trailing_;
    } else {
      pos_ += 1;
    }
  }
  if (pos_ > end_bits_)
    return Fail("chunk ends inside a sample");
  *t = static_cast<int64_t>(t_);
  *v = std::bit_cast<double>(vbits_);
  ++num_read_;
  return absl::OkStatus();
}

absl::StatusOr<size_t> XorDecoder::Next(std::span<int64_t> ts, std::span<double> vs) {
  if (failed_)
    return absl::InvalidArgumentError("XOR decoder is in a failed state");
  const size_t want = std::min({ts.size(), vs.size(), static_cast<size_t>(num_total_ - num_read_)});
  size_t i = 0;
  while (i < want && num_read_ < 2) {
    if (absl::Status st = DecodeFirstTwo(&ts[i], &vs[i]); !st.ok())
      return st;
    ++i;
  }
  if (i == want)
    return want;
  const size_t first_hot = i;

  // Hot loop: all state in locals so the stores to ts/vs cannot alias it.
  int64_t* out_t = ts.data();
  double* out_v = vs.data();
  uint64_t pos = pos_;
  uint64_t t = t_;
  uint64_t t_delta = t_delta_;
  uint64_t vbits = vbits_;
  int leading = leading_;
  int trailing = trailing_;
  bool window_set = window_set_;
  const uint64_t end_bits = end_bits_;
  const char* error = nullptr;

  for (; i < want; ++i) {
    uint64_t w = Peek(pos);
    if (static_cast<int64_t>(w) < 0) {
      const int ones = std::countl_one(w);
      if (ABSL_PREDICT_TRUE(ones < 4)) {
        // 10 + 14 bits, 110 + 17 bits, 1110 + 20 bits.
        const int sz = 11 + 3 * ones;
        const uint64_t u = (w << (ones + 1)) >> (64 - sz);
        const uint64_t half = uint64_t{1} << (sz - 1);
        t_delta += u - (static_cast<uint64_t>(u > half) << sz);
        pos += ones + 1 + sz;
      } else {
        const uint64_t hi = Peek(pos + 4) >> 32;
        const uint64_t lo = Peek(pos + 36) >> 32;
        t_delta += (hi << 32) | lo;
        pos += 68;
      }
      w = Peek(pos);
    } else {
      w <<= 1;
      pos += 1;
    }
    t += t_delta;

    if (static_cast<int64_t>(w) < 0) {
      if (w & (uint64_t{1} << 62)) {
        leading = static_cast<int>((w >> 57) & 31);
        int m = static_cast<int>((w >> 51) & 63);
        m = m == 0 ? 64 : m;
        if (ABSL_PREDICT_FALSE(leading + m > 64)) {
          error = "XOR window wider than 64 bits";
          break;
        }
        trailing = 64 - leading - m;
        window_set = true;
        pos += 13;
      } else {
        if (ABSL_PREDICT_FALSE(!window_set)) {
          error = "XOR window reused before one was set";
          break;
        }
        pos += 2;
      }
      const int m = 64 - leading - trailing;
      const uint64_t bits = Peek64(pos) >> (64 - m);
      pos += m;
      vbits ^= bits << trailing;
    } else {
      pos += 1;
    }
    if (ABSL_PREDICT_FALSE(pos > end_bits)) {
      error = "chunk ends inside a sample";
      break;
    }
    out_t[i] = static_cast<int64_t>(t);
    out_v[i] = std::bit_cast<double>(vbits);
  }

  num_read_ += static_cast<int>(i - first_hot);
  pos_ = pos;
  t_ = t;
  t_delta_ = t_delta;
  vbits_ = vbits;
  leading_ = leading;
  trailing_ = trailing;
  window_set_ = window_set;
  if (error != nullptr)
    return Fail(error);
  return i;
}

absl::StatusOr<size_t> DecodeXorChunk(std::string_view chunk, std::span<int64_t> ts,
                                      std::span<double> vs) {
  XorDecoder dec;
  if (absl::Status st = dec.Reset(chunk); !st.ok())
    return st;
  const size_t n = static_cast<size_t>(dec.num_samples());
  if (ts.size() < n || vs.size() < n) {
    return absl::InvalidArgumentError(absl::StrCat("DecodeXorChunk: chunk has ", n,
                                                   " samples but the output holds ",
                                                   std::min(ts.size(), vs.size())));
  }
  return dec.Next(ts.first(n), vs.first(n));
}

uint64_t ChunkHash(std::string_view data) { return XXH64(data.data(), data.size(), 0); }

}  // namespace paodin::storeapi
