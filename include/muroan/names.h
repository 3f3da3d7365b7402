// Lists of names in messages and their checks, in one place: every "unknown
// fusion 'x' (known: a, b, c)" of the library and the program comes from here.
#pragma once

#include <string>
#include <vector>

namespace muroan {

// "a, b, c" (or joined by another separator: "a,b,c" for a flag's value).
std::string join_names(const std::vector<std::string>& names, const std::string& separator = ", ");

// Throws UsageError "<field>: unknown <what> '<name>' (known: a, b)" unless
// `name` is in `known`.
void check_known_name(const std::string& field, const std::string& what, const std::string& name,
                      const std::vector<std::string>& known);

// Throws UsageError naming `field` unless `names` is a non-empty list of known
// names without repeats.
void check_name_list(const std::string& field, const std::string& what, const std::vector<std::string>& names,
                     const std::vector<std::string>& known);

}  // namespace muroan
