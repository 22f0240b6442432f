// The PromQL function table: every function Prometheus 2.42 knows, with its argument types,
// how many trailing arguments may be left out or repeated, and its return type. The parser
// checks calls against it; the engine keys its kernels off `Function::id`.
#ifndef PAODIN_ENGINE_PROMQL_FUNCTIONS_H_
#define PAODIN_ENGINE_PROMQL_FUNCTIONS_H_

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

#include "engine/promql/value_type.h"

namespace paodin::engine::promql {

// One id per function, in alphabetical order of the names.
enum class FunctionId : uint8_t {
  kAbs,
  kAbsent,
  kAbsentOverTime,
  kAcos,
  kAcosh,
  kAsin,
  kAsinh,
  kAtan,
  kAtanh,
  kAvgOverTime,
  kCeil,
  kChanges,
  kClamp,
  kClampMax,
  kClampMin,
  kCos,
  kCosh,
  kCountOverTime,
  kDayOfMonth,
  kDayOfWeek,
  kDayOfYear,
  kDaysInMonth,
  kDeg,
  kDelta,
  kDeriv,
  kExp,
  kFloor,
  kHistogramCount,
  kHistogramFraction,
  kHistogramQuantile,
  kHistogramSum,
  kHoltWinters,
  kHour,
  kIdelta,
  kIncrease,
  kIrate,
  kLabelJoin,
  kLabelReplace,
  kLastOverTime,
  kLn,
  kLog10,
  kLog2,
  kMaxOverTime,
  kMinOverTime,
  kMinute,
  kMonth,
  kPi,
  kPredictLinear,
  kPresentOverTime,
  kQuantileOverTime,
  kRad,
  kRate,
  kResets,
  kRound,
  kScalar,
  kSgn,
  kSin,
  kSinh,
  kSort,
  kSortDesc,
  kSqrt,
  kStddevOverTime,
  kStdvarOverTime,
  kSumOverTime,
  kTan,
  kTanh,
  kTime,
  kTimestamp,
  kVector,
  kYear,
};

// The number of functions in the table.
inline constexpr int kNumFunctions = static_cast<int>(FunctionId::kYear) + 1;

// One entry of the function table.
struct Function {
  FunctionId id;
  std::string_view name;
  // The declared argument types, in order; only the first `num_arg_types` entries are used.
  std::array<ValueType, 5> arg_type_storage;
  uint8_t num_arg_types;
  // As in Prometheus: 0 = exactly the declared arguments; N > 0 = the last N declared
  // arguments are optional; -1 = the last declared argument may repeat any number of times.
  int8_t variadic;
  ValueType return_type;

  // The declared argument types.
  std::span<const ValueType> arg_types() const {
    return std::span<const ValueType>(arg_type_storage.data(), num_arg_types);
  }

  // The type expected for the argument at `index` (for variadic -1, indexes past the end map
  // to the last declared type). REQUIRES: the call's argument count was checked.
  ValueType ArgType(size_t index) const {
    return index < num_arg_types ? arg_type_storage[index] : arg_type_storage[num_arg_types - 1];
  }
};

// The whole table, indexed by FunctionId.
std::span<const Function> AllFunctions();

// The entry for `id`.
const Function& GetFunction(FunctionId id);

// The entry named `name`, or nullptr for an unknown function.
const Function* LookupFunction(std::string_view name);

}  // namespace paodin::engine::promql

#endif  // PAODIN_ENGINE_PROMQL_FUNCTIONS_H_
