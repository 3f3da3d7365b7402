#include "muroan/json_file.h"

#include <algorithm>

#include "muroan/error.h"
#include "muroan/files.h"

namespace muroan {
namespace {

template <class Json>
Json parse_json_file(const std::string& path, uint64_t max_bytes) {
  const std::string text = read_file_limited(path, max_bytes);
  try {
    return Json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    const size_t byte = std::min<size_t>(e.byte, text.size());
    const auto line = 1 + std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(byte), '\n');
    throw InputError(path + ":" + std::to_string(line), "not valid JSON: " + json_error_text(e));
  } catch (const nlohmann::json::exception& e) {  // e.g. a number too large to store (out_of_range.406)
    throw InputError(path, "not valid JSON: " + json_error_text(e));
  }
}

}  // namespace

nlohmann::json read_json_file(const std::string& path, uint64_t max_bytes) {
  return parse_json_file<nlohmann::json>(path, max_bytes);
}

nlohmann::ordered_json read_ordered_json_file(const std::string& path, uint64_t max_bytes) {
  return parse_json_file<nlohmann::ordered_json>(path, max_bytes);
}

std::string json_error_text(const nlohmann::json::exception& e) {
  std::string text = e.what();
  if (const auto pos = text.find("] "); text.rfind("[json.exception", 0) == 0 && pos != std::string::npos)
    text = text.substr(pos + 2);
  if (text.rfind("parse error", 0) == 0)
    if (const auto pos = text.find(": "); pos != std::string::npos) text = text.substr(pos + 2);
  return text;
}

}  // namespace muroan
