#include "io/json_fields.h"

#include <algorithm>

#include "muroan/error.h"
#include "muroan/files.h"

namespace muroan::io {

std::string field_where(const std::string& where, const std::string& name) { return where + ": field '" + name + "'"; }

const nlohmann::json& require_field(const nlohmann::json& object, const std::string& name, const std::string& where) {
  const auto it = object.find(name);
  if (it == object.end()) throw InputError(field_where(where, name), "missing");
  return *it;
}

std::string string_field(const nlohmann::json& object, const std::string& name, const std::string& where) {
  const auto& value = require_field(object, name, where);
  if (!value.is_string()) throw InputError(field_where(where, name), "expected a string, got " + json_type_text(value));
  return value.get<std::string>();
}

int64_t integer_field(const nlohmann::json& object, const std::string& name, const std::string& where) {
  const auto& value = require_field(object, name, where);
  if (!value.is_number_integer())
    throw InputError(field_where(where, name), "expected an integer, got " + json_type_text(value));
  return value.get<int64_t>();
}

std::string json_type_text(const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::null:
      return "null";
    case nlohmann::json::value_t::boolean:
      return "a boolean";
    case nlohmann::json::value_t::string:
      return "a string";
    case nlohmann::json::value_t::array:
      return "an array";
    case nlohmann::json::value_t::object:
      return "an object";
    case nlohmann::json::value_t::number_float:
      return "a floating-point number";
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
      return "an integer";
    default:
      return "an unsupported value";
  }
}

std::map<std::string, int64_t> read_word_ids(const std::string& path) {
  const nlohmann::json v = read_json_file(path, kMaxConfigJsonBytes);
  std::map<std::string, int64_t> ids;
  if (v.is_array()) {
    for (size_t i = 0; i < v.size(); ++i) {
      if (!v[i].is_string())
        throw InputError(path + ": [" + std::to_string(i) + "]",
                         "expected a word (string), got " + json_type_text(v[i]));
      ids.emplace(v[i].get<std::string>(), static_cast<int64_t>(i));
    }
  } else if (v.is_object()) {
    for (auto it = v.begin(); it != v.end(); ++it) {
      if (!it->is_number_integer() || it->get<int64_t>() < 0)
        throw InputError(path + ": field '" + it.key() + "'",
                         "expected a token id (integer >= 0), got " + json_type_text(*it));
      ids.emplace(it.key(), it->get<int64_t>());
    }
  } else {
    throw InputError(path, "expected a list of words by id or an object word -> id, got " + json_type_text(v));
  }
  return ids;
}

}  // namespace muroan::io
