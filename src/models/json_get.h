// Typed reads of JSON values without nlohmann's silent conversions: get<int>()
// on 6.7e77 converts a double to an integer out of range, which is undefined
// behaviour (found by fuzz/checkpoint_fuzzer.cpp under UBSan). A value is read
// only when it already holds the type asked for.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <type_traits>
#include <vector>

namespace muroan::models {

template <typename T>
struct IsVector : std::false_type {};
template <typename U>
struct IsVector<std::vector<U>> : std::true_type {};

// Whether `v` holds a T: integers for integral T (non-negative ones for
// unsigned T), any number for floating T, strings, arrays of such; any JSON
// value for nlohmann::json.
template <typename T>
bool holds(const nlohmann::json& v) {
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
  } else if constexpr (IsVector<T>::value) {
    if (!v.is_array()) return false;
    for (const auto& e : v)
      if (!holds<typename T::value_type>(e)) return false;
    return true;
  } else {
    return true;
  }
}

}  // namespace muroan::models
