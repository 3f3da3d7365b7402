// Checked access to JSON fields for the bring-your-own-model files: every
// failure is an InputError "where: field 'name': what".
#pragma once

#include <nlohmann/json.hpp>

#include "muroan/json_file.h"

#include <cstdint>
#include <map>
#include <string>

namespace muroan::io {

// "<where>: field '<name>'".
std::string field_where(const std::string& where, const std::string& name);

// The field, which must be present; throws "field 'name': missing".
const nlohmann::json& require_field(const nlohmann::json& object, const std::string& name, const std::string& where);
// Values of one JSON type; throw "field 'name': expected <what>, got <type>".
std::string string_field(const nlohmann::json& object, const std::string& name, const std::string& where);
int64_t integer_field(const nlohmann::json& object, const std::string& name, const std::string& where);

// The JSON type of `value` for messages: "a string", "a number", "null", ...
std::string json_type_text(const nlohmann::json& value);

// A manifest or vocabulary file is read with read_json_file (json_file.h) and this limit.
constexpr uint64_t kMaxConfigJsonBytes = 16ull << 20;

// A vocabulary file: a JSON list of words by id, or an object word -> id.
// Throws InputError naming the entry that is neither.
std::map<std::string, int64_t> read_word_ids(const std::string& path);

}  // namespace muroan::io
