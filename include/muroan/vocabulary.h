// Word <-> id mapping for token modalities. Id 0 is the padding token "<pad>",
// id 1 the unknown word "<unk>".
#pragma once

#include <torch/types.h>
#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace muroan {

class Vocabulary {
 public:
  static constexpr int64_t kPadId = 0;
  static constexpr int64_t kUnkId = 1;

  Vocabulary();
  explicit Vocabulary(const std::vector<std::string>& words);  // adds <pad>, <unk> first

  // Adds `word` if new; returns its id.
  int64_t add(const std::string& word);
  int64_t id(const std::string& word) const;  // kUnkId if unknown
  const std::string& word(int64_t id) const;  // throws for an id out of range
  int64_t size() const { return static_cast<int64_t>(words_.size()); }
  const std::vector<std::string>& words() const { return words_; }

  // Splits `text` on spaces and maps each word; pads with kPadId to `max_len`;
  // throws Error if the text has more than max_len words.
  std::vector<int64_t> encode(const std::string& text, int64_t max_len) const;
  // Words of the non-pad ids, joined by spaces.
  std::string decode(const std::vector<int64_t>& ids) const;
  std::string decode(const torch::Tensor& ids) const;  // 1-D int64

  nlohmann::json to_json() const;
  static Vocabulary from_json(const nlohmann::json& j);

 private:
  std::vector<std::string> words_;
  std::unordered_map<std::string, int64_t> index_;
};

}  // namespace muroan
