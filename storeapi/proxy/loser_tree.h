// A tournament (loser) tree over k sorted inputs: the smallest head is at the root, and after
// the winner advances only the log2(k) games on its path are replayed (one comparison per
// level, against the stored loser), instead of sift-down's two.
#ifndef PAODIN_STOREAPI_PROXY_LOSER_TREE_H_
#define PAODIN_STOREAPI_PROXY_LOSER_TREE_H_

#include <cstddef>
#include <utility>
#include <vector>

namespace paodin::storeapi {

// `Less(a, b)` orders leaves a and b by their current heads; exhausted leaves must compare
// greater than every live one, and ties should break by index for a stable order.
template <typename Less>
class LoserTree {
 public:
  LoserTree(size_t k, Less less) : k_(k), less_(std::move(less)), nodes_(k == 0 ? 1 : k) {}

  // Plays every game. Call once all heads are in place.
  void Build() {
    if (k_ == 0)
      return;
    std::vector<size_t> winners(2 * k_);
    for (size_t i = 0; i < k_; ++i)
      winners[k_ + i] = i;
    for (size_t n = k_ - 1; n >= 1; --n) {
      const size_t l = winners[2 * n];
      const size_t r = winners[2 * n + 1];
      if (less_(r, l)) {
        winners[n] = r;
        nodes_[n] = l;
      } else {
        winners[n] = l;
        nodes_[n] = r;
      }
    }
    nodes_[0] = k_ == 1 ? 0 : winners[1];
  }

  // The leaf with the smallest head. REQUIRES: k > 0 and Build() called.
  size_t Winner() const { return nodes_[0]; }

  // Replays the games of `leaf` after its head changed. REQUIRES: leaf == Winner().
  void Replay(size_t leaf) {
    size_t winner = leaf;
    for (size_t n = (leaf + k_) / 2; n >= 1; n /= 2) {
      if (less_(nodes_[n], winner))
        std::swap(nodes_[n], winner);
    }
    nodes_[0] = winner;
  }

  size_t size() const { return k_; }

 private:
  size_t k_;
  Less less_;
  std::vector<size_t> nodes_;  // nodes_[0]: winner; nodes_[1..k): loser of each game
};

}  // namespace paodin::storeapi

#endif  // PAODIN_STOREAPI_PROXY_LOSER_TREE_H_
