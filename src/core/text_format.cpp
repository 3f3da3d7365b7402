#include "muroan/text_format.h"

#include <cstdarg>
#include <cstdio>

namespace muroan {

std::string format_text(const char* pattern, ...) {
  va_list args;
  va_start(args, pattern);
  va_list again;
  va_copy(again, args);
  const int n = std::vsnprintf(nullptr, 0, pattern, args);
  va_end(args);
  std::string s(static_cast<size_t>(n > 0 ? n : 0) + 1, '\0');
  std::vsnprintf(s.data(), s.size(), pattern, again);
  va_end(again);
  s.pop_back();
  return s;
}

}  // namespace muroan
