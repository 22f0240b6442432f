// The four value types of PromQL expressions (plus kNone for "no value"), shared by the AST and
// the function table.
#ifndef PAODIN_ENGINE_PROMQL_VALUE_TYPE_H_
#define PAODIN_ENGINE_PROMQL_VALUE_TYPE_H_

#include <cstdint>
#include <string_view>

namespace paodin::engine::promql {

// The type an expression evaluates to. kVector is an instant vector, kMatrix a range vector.
enum class ValueType : uint8_t { kNone, kScalar, kString, kVector, kMatrix };

// Prometheus' internal name of the type ("scalar", "string", "vector", "matrix", "none"), as
// used in the `resultType` field of API responses.
std::string_view ValueTypeName(ValueType type);

// The user-facing name used in error messages ("scalar", "string", "instant vector",
// "range vector"), as Prometheus' DocumentedType.
std::string_view DocumentedValueType(ValueType type);

}  // namespace paodin::engine::promql

#endif  // PAODIN_ENGINE_PROMQL_VALUE_TYPE_H_
