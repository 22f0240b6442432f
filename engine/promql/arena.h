// A bump-pointer arena that owns the nodes of one PromQL syntax tree. Objects are destroyed,
// in reverse order of creation, when the arena is destroyed; nothing is freed before.
#ifndef PAODIN_ENGINE_PROMQL_ARENA_H_
#define PAODIN_ENGINE_PROMQL_ARENA_H_

#include <cstddef>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>
#include <vector>

namespace paodin::engine::promql {

// Owns objects created with New<T>(). Not thread-safe; not copyable or movable (hold it by
// unique_ptr to move a tree around: the node addresses stay valid).
class Arena {
 public:
  Arena() = default;
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;
  ~Arena();

  // Constructs a T in the arena and returns it; the arena destroys it.
  template <typename T, typename... Args>
  T* New(Args&&... args) {
    void* mem = Allocate(sizeof(T), alignof(T));
    T* obj = new (mem) T(std::forward<Args>(args)...);
    if constexpr (!std::is_trivially_destructible_v<T>) {
      destructors_.push_back(Destructor{obj, [](void* p) { static_cast<T*>(p)->~T(); }});
    }
    return obj;
  }

  // Bytes handed out so far (for tests and benchmarks).
  size_t bytes_used() const { return bytes_used_; }

 private:
  struct Destructor {
    void* obj;
    void (*destroy)(void*);
  };

  void* Allocate(size_t size, size_t align);

  std::vector<std::unique_ptr<std::byte[]>> blocks_;
  std::byte* cursor_ = nullptr;
  size_t left_ = 0;
  size_t next_block_size_ = 1024;
  size_t bytes_used_ = 0;
  std::vector<Destructor> destructors_;
};

}  // namespace paodin::engine::promql

#endif  // PAODIN_ENGINE_PROMQL_ARENA_H_
