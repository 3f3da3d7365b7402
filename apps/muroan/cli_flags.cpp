#include "cli_flags.h"

#include "muroan/error.h"

namespace muroan::cli {

CLI::Option* FlagBinder::bind_list(const std::string& flag, const std::string& field, std::vector<std::string>& value,
                                   const std::string& help) {
  fields_.emplace_back(field, flag);
  std::string shown;
  for (const auto& v : value) shown += (shown.empty() ? "" : ",") + v;
  return cmd_->add_option(flag, value, help)->delimiter(',')->default_str(shown);
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
