// LEB128 (protobuf and Go) unsigned varints: the size and the encoding of one value.
#ifndef PAODIN_ENGINE_UTIL_VARINT_H_
#define PAODIN_ENGINE_UTIL_VARINT_H_

#include <cstddef>
#include <cstdint>

namespace paodin::engine {

// Bytes the varint of `v` takes: 1 below 128, at most 10.
inline size_t VarintSize(uint64_t v) {
  size_t size = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++size;
  }
  return size;
}

// Writes the varint of `v` at `p` and returns the byte after it.
inline char* PutVarint(char* p, uint64_t v) {
  while (v >= 0x80) {
    *p++ = static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<char>(v);
  return p;
}

}  // namespace paodin::engine

#endif  // PAODIN_ENGINE_UTIL_VARINT_H_
