#include "io/json_fields.h"

#include "muroan/error.h"

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

}  // namespace muroan::io
