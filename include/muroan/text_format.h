// printf into a std::string, for the lines MUROAN prints (info, bench tables).
//
//   std::string line = muroan::format_text("%s: %lld points\n", name.c_str(), static_cast<long long>(n));
#pragma once

#include <string>

namespace muroan {

// The compiler checks `pattern` against the arguments as it does printf's.
std::string format_text(const char* pattern, ...) __attribute__((format(printf, 1, 2)));

}  // namespace muroan
