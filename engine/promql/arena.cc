#include "engine/promql/arena.h"

#include <algorithm>
#include <cstdint>

namespace paodin::engine::promql {

Arena::~Arena() {
  for (auto it = destructors_.rbegin(); it != destructors_.rend(); ++it) {
    it->destroy(it->obj);
  }
}

void* Arena::Allocate(size_t size, size_t align) {
  size_t pad = (align - reinterpret_cast<uintptr_t>(cursor_) % align) % align;
  if (cursor_ == nullptr || pad + size > left_) {
    size_t block = std::max(next_block_size_, size + align);
    next_block_size_ = std::min<size_t>(next_block_size_ * 2, 64 * 1024);
    blocks_.push_back(std::make_unique<std::byte[]>(block));
    cursor_ = blocks_.back().get();
    left_ = block;
    pad = (align - reinterpret_cast<uintptr_t>(cursor_) % align) % align;
  }
  std::byte* out = cursor_ + pad;
  cursor_ = out + size;
  left_ -= pad + size;
  bytes_used_ += size;
  return out;
}

}  // namespace paodin::engine::promql
