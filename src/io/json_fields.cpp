#include "io/json_fields.h"

#include <algorithm>

#include "muroan/error.h"
#include "muroan/files.h"

namespace muroan::io {

std::string field_where(const std::string& where, const std::string& name) {
  return where + ": field '" + name + "'";
}

const nlohmann::json& require_field(const nlohmann::json& object, const std::string& name,
                                    const std::string& where) {
  const auto it = object.find(name);
  if (it == object.end()) throw InputError(field_where(where, name), "missing");
  return *it;
}

std::string string_field(const nlohmann::json& object, const std::string& name, const std::string& where) {
  const auto& value = require_field(object, name, where);
  if (!value.is_string())
    throw InputError(field_where(where, name), "expected a string, got " + json_type_text(value));
  return value.get<std::string>();
}

int64_t integer_field(const nlohmann::json& object, const std::string& name, const std::string& where) {
  const auto& value = require_field(object, name, where);
  if (!value.is_number_integer())
    throw InputError(field_where(where, name), "expected an integer, got " + json_type_text(value));
  return value.get<int64_t>();
}

std::string json_error_text(const nlohmann::json::exception& e) {
  std::string text = e.what();
  if (const auto pos = text.find("] "); text.rfind("[json.exception", 0) == 0 && pos != std::string::npos)
    text = text.substr(pos + 2);
  if (text.rfind("parse error", 0) == 0)
    if (const auto pos = text.find(": "); pos != std::string::npos) text = text.substr(pos + 2);
  return text;
}

std::string json_type_text(const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::null: return "null";
    case nlohmann::json::value_t::boolean: return "a boolean";
    case nlohmann::json::value_t::string: return "a string";
    case nlohmann::json::value_t::array: return "an array";
    case nlohmann::json::value_t::object: return "an object";
    case nlohmann::json::value_t::number_float: return "a floating-point number";
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned: return "an integer";
    default: return "an unsupported value";
  }
}

nlohmann::json read_json_file(const std::string& path) {
  constexpr uint64_t kMaxJsonBytes = 16ull << 20;  // a manifest or vocab: 16 MiB at most
  const std::string text = read_file_limited(path, kMaxJsonBytes);
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    const size_t byte = std::min<size_t>(e.byte, text.size());
    const auto line = 1 + std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(byte), '\n');
    throw InputError(path + ":" + std::to_string(line), "not valid JSON: " + json_error_text(e));
  } catch (const nlohmann::json::exception& e) {  // e.g. a number too large to store (out_of_range.406)
    throw InputError(path, "not valid JSON: " + json_error_text(e));
  }
}

std::map<std::string, int64_t> read_word_ids(const std::string& path) {
  const nlohmann::json v = read_json_file(path);
  std::map<std::string, int64_t> ids;
  if (v.is_array()) {
    for (size_t i = 0; i < v.size(); ++i) {
      if (!v[i].is_string())
        throw InputError(path + ": [" + std::to_string(i) + "]", "expected a word (string), got " + json_type_text(v[i]));
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
