#include "muroan/names.h"

#include <algorithm>

#include "muroan/error.h"

namespace muroan {

std::string join_names(const std::vector<std::string>& names, const std::string& separator) {
  std::string text;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) text += separator;
    text += names[i];
  }
  return text;
}

void check_known_name(const std::string& field, const std::string& what, const std::string& name,
                      const std::vector<std::string>& known) {
  if (std::find(known.begin(), known.end(), name) == known.end())
    throw UsageError(field + ": unknown " + what + " '" + name + "' (known: " + join_names(known) + ")");
}

void check_name_list(const std::string& field, const std::string& what, const std::vector<std::string>& names,
                     const std::vector<std::string>& known) {
  if (names.empty()) throw UsageError(field + ": give at least one name (known: " + join_names(known) + ")");
  for (size_t i = 0; i < names.size(); ++i) {
    check_known_name(field, what, names[i], known);
    if (std::find(names.begin(), names.begin() + static_cast<std::ptrdiff_t>(i), names[i]) !=
        names.begin() + static_cast<std::ptrdiff_t>(i))
      throw UsageError(field + ": '" + names[i] + "' is listed twice");
  }
}

}  // namespace muroan
