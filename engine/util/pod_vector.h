// PodVector: a growable array of trivially copyable values that can grow by an uninitialized
// tail, so a decoder writes straight into it (std::vector would zero the tail first, or need a
// second buffer and a copy).
#ifndef PAODIN_ENGINE_UTIL_POD_VECTOR_H_
#define PAODIN_ENGINE_UTIL_POD_VECTOR_H_

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <cstring>
#include <iterator>
#include <memory>
#include <type_traits>
#include <utility>

namespace paodin::engine {

template <typename T>
class PodVector {
  static_assert(std::is_trivially_copyable_v<T>);

 public:
  PodVector() = default;

  PodVector(PodVector&& o) noexcept
      : data_(std::move(o.data_)),
        size_(std::exchange(o.size_, 0)),
        cap_(std::exchange(o.cap_, 0)) {}

  PodVector& operator=(PodVector&& o) noexcept {
    data_ = std::move(o.data_);
    size_ = std::exchange(o.size_, 0);
    cap_ = std::exchange(o.cap_, 0);
    return *this;
  }

  PodVector(const PodVector& o) { assign(o.begin(), o.end()); }

  PodVector& operator=(const PodVector& o) {
    if (this != &o)
      assign(o.begin(), o.end());
    return *this;
  }

  T* data() { return data_.get(); }

  const T* data() const { return data_.get(); }

  size_t size() const { return size_; }

  size_t capacity() const { return cap_; }

  bool empty() const { return size_ == 0; }

  T* begin() { return data_.get(); }

  T* end() { return data_.get() + size_; }

  const T* begin() const { return data_.get(); }

  const T* end() const { return data_.get() + size_; }

  T& operator[](size_t i) {
    assert(i < size_);
    return data_[i];
  }

  const T& operator[](size_t i) const {
    assert(i < size_);
    return data_[i];
  }

  T& back() {
    assert(size_ > 0);
    return data_[size_ - 1];
  }

  const T& back() const {
    assert(size_ > 0);
    return data_[size_ - 1];
  }

  void clear() { size_ = 0; }

  void reserve(size_t n) {
    if (n > cap_)
      Reallocate(n);
  }

  void push_back(T v) {
    if (size_ == cap_)
      Reallocate(Grown(size_ + 1));
    data_[size_++] = v;
  }

  // Grows the size by n and returns the first of the n new, uninitialized elements.
  T* Extend(size_t n) {
    if (size_ + n > cap_)
      Reallocate(Grown(size_ + n));
    T* tail = data_.get() + size_;
    size_ += n;
    return tail;
  }

  // Shrinks the size to n (n <= size()); the capacity stays.
  void Truncate(size_t n) {
    assert(n <= size_);
    size_ = n;
  }

  // Drops the first k elements, moving the rest to the front.
  void EraseFront(size_t k) {
    assert(k <= size_);
    if (k == 0)
      return;
    if (k < size_)
      std::memmove(data_.get(), data_.get() + k, (size_ - k) * sizeof(T));
    size_ -= k;
  }

  template <typename It>
  void assign(It first, It last) {
    const size_t n = static_cast<size_t>(std::distance(first, last));
    size_ = 0;
    reserve(n);
    std::copy(first, last, data_.get());
    size_ = n;
  }

 private:
  size_t Grown(size_t need) const { return std::max<size_t>({need, cap_ * 2, 16}); }

  void Reallocate(size_t cap) {
    // new T[] default-initializes: trivially copyable values are left uninitialized.
    std::unique_ptr<T[]> next(new T[cap]);
    if (size_ > 0)
      std::memcpy(next.get(), data_.get(), size_ * sizeof(T));
    data_ = std::move(next);
    cap_ = cap;
  }

  std::unique_ptr<T[]> data_;
  size_t size_ = 0;
  size_t cap_ = 0;
};

}  // namespace paodin::engine

#endif  // PAODIN_ENGINE_UTIL_POD_VECTOR_H_
