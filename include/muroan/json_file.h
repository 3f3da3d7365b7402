// Reading JSON files, in one place for every module: size-limited (a device
// or a runaway file is refused before it is read), and every error one
// InputError "path:line: not valid JSON: <what>".
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

namespace muroan {

constexpr uint64_t kMaxJsonFileBytes = 64ull << 20;

nlohmann::json read_json_file(const std::string& path, uint64_t max_bytes = kMaxJsonFileBytes);
// The same, keeping the order of object keys (result files are written in order).
nlohmann::ordered_json read_ordered_json_file(const std::string& path, uint64_t max_bytes = kMaxJsonFileBytes);

// A parse error without nlohmann's prefix ("[json.exception.parse_error.101] ...
// column 5: "), e.g. "syntax error while parsing value - unexpected '}'".
std::string json_error_text(const nlohmann::json::exception& e);

}  // namespace muroan
