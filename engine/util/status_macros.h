// Status helpers that Debian's Abseil (20220623) lacks: early return on error and
// assign-or-return for absl::StatusOr.
#ifndef PAODIN_ENGINE_UTIL_STATUS_MACROS_H_
#define PAODIN_ENGINE_UTIL_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define PAODIN_CONCAT_INNER_(a, b) a##b
#define PAODIN_CONCAT_(a, b) PAODIN_CONCAT_INNER_(a, b)

// Evaluates `expr` (an absl::Status) and returns it from the enclosing function if not ok.
#define PAODIN_RETURN_IF_ERROR(expr)            \
  do {                                          \
    if (absl::Status st_ = (expr); !st_.ok()) { \
      return st_;                               \
    }                                           \
  } while (0)

// Evaluates `rexpr` (an absl::StatusOr<T>); on error returns its status, else assigns or
// declares `lhs` from its value: PAODIN_ASSIGN_OR_RETURN(auto x, ParseX(s));
#define PAODIN_ASSIGN_OR_RETURN(lhs, rexpr) \
  PAODIN_AOR_IMPL_(PAODIN_CONCAT_(paodin_sor_, __LINE__), lhs, rexpr)

#define PAODIN_AOR_IMPL_(sor, lhs, rexpr) \
  auto sor = (rexpr);                     \
  if (!sor.ok()) {                        \
    return std::move(sor).status();       \
  }                                       \
  lhs = *std::move(sor)

#endif  // PAODIN_ENGINE_UTIL_STATUS_MACROS_H_
