#include "cli_truth.h"

#include <algorithm>
#include <sstream>

#include "cli_options.h"
#include "muroan/error.h"
#include "muroan/names.h"
#include "muroan/task_oracle.h"

namespace muroan::cli {

std::vector<std::string> split_list(const std::string& list) {
  std::vector<std::string> out;
  std::stringstream in(list);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

bool parse_index(const std::string& s, int64_t* out) {
  if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos || s.size() > 18) return false;
  *out = std::stoll(s);
  return true;
}

std::unique_ptr<TruthOracle> oracle_for(const ModelAndData& md, double garment_share) {
  if (md.task.empty()) return nullptr;
  OracleOptions o;
  o.garment_share = garment_share;
  return make_task_oracle(md.task, md.vocab, o);
}

std::vector<int64_t> resolve_protected_tokens(const std::string& words, const std::string& ids,
                                              const ModelAndData& md) {
  std::vector<int64_t> out = md.protected_tokens;
  for (const auto& w : split_list(words)) {
    const auto it = md.word_ids.find(w);
    if (it == md.word_ids.end())
      throw UsageError("--protect-words: " +
                       (md.word_ids.empty()
                            ? "'" + w +
                                  "' cannot be mapped to a token id: the model has no vocabulary (give a "
                                  "\"vocab\" file in the manifest, or the ids with --protect-tokens)"
                            : "'" + w + "' is not in the model's vocabulary"));
    out.push_back(it->second);
  }
  for (const auto& s : split_list(ids)) {
    int64_t id = -1;
    if (!parse_index(s, &id)) throw UsageError("--protect-tokens: expected token ids (integers >= 0), got '" + s + "'");
    out.push_back(id);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<int64_t> resolve_labels(const std::string& list, const std::vector<std::string>& classes) {
  std::vector<int64_t> out;
  for (const auto& s : split_list(list)) {
    int64_t index = -1;
    const auto it = std::find(classes.begin(), classes.end(), s);
    if (it != classes.end()) {
      index = it - classes.begin();
    } else if (!parse_index(s, &index) || index >= static_cast<int64_t>(classes.size())) {
      throw UsageError("--attack-labels: '" + s + "' is neither a class name (" + join_names(classes) +
                       ") nor an index below " + std::to_string(classes.size()));
    }
    if (std::find(out.begin(), out.end(), index) == out.end()) out.push_back(index);
  }
  return out;
}

}  // namespace muroan::cli
