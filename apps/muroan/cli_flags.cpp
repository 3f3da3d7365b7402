#include "cli_flags.h"

#include "muroan/error.h"
#include "muroan/names.h"

namespace muroan::cli {

CLI::Option* FlagBinder::bind_list(const std::string& flag, const std::string& field, std::vector<std::string>& value,
                                   const std::string& help) {
  fields_.emplace_back(field, flag);
  std::vector<std::string>* target = &value;  // the struct outlives the parse (the command holds it)
  return cmd_
      ->add_option_function<std::vector<std::string>>(
          flag,
          [target](const std::vector<std::string>& items) {
            target->clear();  // "a,,b" and "" : empty items are dropped
            for (const auto& item : items)
              if (!item.empty()) target->push_back(item);
          },
          help)
      ->delimiter(',')
      ->type_name("LIST")
      ->default_str(join_names(value, ","));
}

int FlagBinder::run(const std::function<int()>& call) const {
  try {
    return call();
  } catch (const UsageError& e) {
    const std::string message = e.what();
    const auto colon = message.find(": ");
    if (colon == std::string::npos) throw;
    // The prefix is one field or a list of them.
    std::string prefix, rest = message.substr(0, colon);
    bool mapped = false;
    while (!rest.empty()) {
      const auto comma = rest.find(", ");
      const std::string field = rest.substr(0, comma);
      std::string shown = field;
      for (const auto& [f, flag] : fields_)
        if (f == field) {
          shown = flag;
          mapped = true;
        }
      prefix += (prefix.empty() ? "" : ", ") + shown;
      rest = comma == std::string::npos ? "" : rest.substr(comma + 2);
    }
    if (!mapped) throw;
    throw UsageError(prefix + message.substr(colon));
  }
}

}  // namespace muroan::cli
