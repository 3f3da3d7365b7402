// Typed reads of JSON fields, in one place for every module. A value is read
// only when it already holds the type asked for: nlohmann's get<int>() on
// 6.7e77 converts a double to an integer out of range, which is undefined
// behaviour (found by fuzz/checkpoint_fuzzer.cpp under UBSan). Errors are
// InputError "<where>: missing field 'name'" or "<where>: field 'name' has the
// wrong type".
//
//   const auto shape = muroan::json_field<std::vector<int64_t>>(j, "shape", "model.json: inputs[0]");
//   const double fill = muroan::json_field_or(j, "fill", where, 0.0);
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <type_traits>
#include <vector>

#include "muroan/error.h"

namespace muroan {
namespace json_detail {

template <typename T>
struct IsVector : std::false_type {};
template <typename U>
struct IsVector<std::vector<U>> : std::true_type {};

}  // namespace json_detail

// Whether `v` holds a T: integers for integral T (non-negative ones for
// unsigned T), any number for floating T, strings, arrays of such; any JSON
// value for other T (nlohmann::json itself).
template <typename T, typename Json>
bool json_holds(const Json& v) {
  if constexpr (std::is_same_v<T, bool>) {
    return v.is_boolean();
  } else if constexpr (std::is_integral_v<T> && std::is_unsigned_v<T>) {
    return v.is_number_unsigned();
  } else if constexpr (std::is_integral_v<T>) {
    return v.is_number_integer();
  } else if constexpr (std::is_floating_point_v<T>) {
    return v.is_number();
  } else if constexpr (std::is_same_v<T, std::string>) {
    return v.is_string();
  } else if constexpr (json_detail::IsVector<T>::value) {
    if (!v.is_array()) return false;
    for (const auto& e : v)
      if (!json_holds<typename T::value_type>(e)) return false;
    return true;
  } else {
    return true;
  }
}

// The value `v` (the field `name` of an object at `where`) as a T.
template <typename T, typename Json>
T json_value_as(const Json& v, const char* name, const std::string& where) {
  const std::string wrong = std::string("field '") + name + "' has the wrong type";
  if (!json_holds<T>(v)) throw InputError(where, wrong);
  try {
    return v.template get<T>();
  } catch (const std::exception&) {  // nlohmann's exceptions; a value too large for T
    throw InputError(where, wrong);
  }
}

// The field `name` of the object `j`, which must be present.
template <typename T, typename Json>
T json_field(const Json& j, const char* name, const std::string& where) {
  if (!j.is_object() || !j.contains(name)) throw InputError(where, std::string("missing field '") + name + "'");
  return json_value_as<T>(j.at(name), name, where);
}

// The field `name` of `j`, or `fallback` when it is absent or null.
template <typename T, typename Json>
T json_field_or(const Json& j, const char* name, const std::string& where, T fallback) {
  if (!j.is_object()) return fallback;
  const auto it = j.find(name);
  if (it == j.end() || it->is_null()) return fallback;
  return json_value_as<T>(*it, name, where);
}

}  // namespace muroan
