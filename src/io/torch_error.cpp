#include "io/torch_error.h"

#include <c10/util/Exception.h>

#include <sstream>
#include <vector>

namespace muroan::io {
namespace {

constexpr const char* kInterpreterPreamble = "The following operation failed in the TorchScript interpreter";

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

}  // namespace

std::string torch_error_line(const std::exception& e) {
  const auto* c10_error = dynamic_cast<const c10::Error*>(&e);
  const std::string text = c10_error ? c10_error->what_without_backtrace() : e.what();
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!trim(line).empty()) lines.push_back(trim(line));
  if (lines.empty()) return "unknown error";
  if (lines.front().rfind(kInterpreterPreamble, 0) == 0) return lines.back();
  return lines.front();
}

}  // namespace muroan::io
