// Flags bound to the fields of the library's option structs, so that every
// default lives in one place (the struct) and --help shows it; and the
// library's errors, which name fields ("train.epochs: must be positive"),
// shown with the flags the user typed ("--epochs: must be positive").
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace muroan::cli {

class FlagBinder {
 public:
  explicit FlagBinder(CLI::App* cmd) : cmd_(cmd) {}

  // --flag bound to `value`, the field `field` of a library struct.
  template <class T>
  CLI::Option* bind(const std::string& flag, const std::string& field, T& value, const std::string& help) {
    fields_.emplace_back(field, flag);
    return cmd_->add_option(flag, value, help)->capture_default_str();
  }
  // A comma-separated list bound to a vector of names.
  CLI::Option* bind_list(const std::string& flag, const std::string& field, std::vector<std::string>& value,
                         const std::string& help);
  // One of the names of an enum, e.g. {"none", DefenseKind::kNone}, ...
  template <class E>
  CLI::Option* bind_enum(const std::string& flag, const std::string& field, E& value,
                         const std::map<std::string, E>& names, const std::string& help) {
    fields_.emplace_back(field, flag);
    std::string shown;
    std::vector<std::string> keys;
    for (const auto& [name, v] : names) {
      keys.push_back(name);
      if (v == value) shown = name;
    }
    E* target = &value;  // the struct outlives the parse (the command holds it)
    return cmd_
        ->add_option_function<std::string>(
            flag, [target, names](const std::string& name) { *target = names.at(name); }, help)
        ->check(CLI::IsMember(keys))
        ->type_name("NAME")
        ->default_str(shown);
  }
  CLI::App& command() const { return *cmd_; }
  // Records that `flag` sets `field` through the command's own conversion.
  void name(const std::string& field, const std::string& flag) { fields_.emplace_back(field, flag); }

  // Runs `call`; a UsageError whose message starts with "<field>[, <field>]: "
  // is thrown again with the fields' flags in their place.
  int run(const std::function<int()>& call) const;

 private:
  CLI::App* cmd_;
  std::vector<std::pair<std::string, std::string>> fields_;  // field, flag
};

}  // namespace muroan::cli
