#include "muroan/vocabulary.h"

#include <nlohmann/json.hpp>

#include <sstream>

#include "muroan/error.h"

namespace muroan {

Vocabulary::Vocabulary() {
  add("<pad>");
  add("<unk>");
}

Vocabulary::Vocabulary(const std::vector<std::string>& words) : Vocabulary() {
  for (const auto& w : words) add(w);
}

int64_t Vocabulary::add(const std::string& word) {
  auto it = index_.find(word);
  if (it != index_.end()) return it->second;
  const int64_t id = size();
  words_.push_back(word);
  index_.emplace(word, id);
  return id;
}

int64_t Vocabulary::id(const std::string& word) const {
  auto it = index_.find(word);
  return it == index_.end() ? kUnkId : it->second;
}

const std::string& Vocabulary::word(int64_t id) const {
  if (id < 0 || id >= size())
    throw Error("token id " + std::to_string(id) + " is outside the vocabulary of " + std::to_string(size()) +
                " words");
  return words_[static_cast<size_t>(id)];
}

std::vector<int64_t> Vocabulary::encode(const std::string& text, int64_t max_len) const {
  std::vector<int64_t> ids;
  std::istringstream in(text);
  std::string w;
  while (in >> w) ids.push_back(id(w));
  if (static_cast<int64_t>(ids.size()) > max_len)
    throw Error("text '" + text + "' has " + std::to_string(ids.size()) + " words, more than max_len " +
                std::to_string(max_len));
  ids.resize(static_cast<size_t>(max_len), kPadId);
  return ids;
}

std::string Vocabulary::decode(const std::vector<int64_t>& ids) const {
  std::string out;
  for (int64_t id : ids) {
    if (id == kPadId) continue;
    if (!out.empty()) out += ' ';
    out += word(id);
  }
  return out;
}

std::string Vocabulary::decode(const torch::Tensor& ids) const {
  auto c = ids.to(torch::kCPU).to(torch::kLong).contiguous();
  const int64_t* p = c.data_ptr<int64_t>();
  return decode(std::vector<int64_t>(p, p + c.numel()));
}

nlohmann::json Vocabulary::to_json() const { return words_; }

Vocabulary Vocabulary::from_json(const nlohmann::json& j) {
  if (!j.is_array() || j.size() < 2 || j[0] != "<pad>" || j[1] != "<unk>")
    throw Error("vocabulary must be an array of words starting with <pad>, <unk>");
  Vocabulary v;
  for (size_t i = 2; i < j.size(); ++i) {
    if (!j[i].is_string()) throw Error("vocabulary entry " + std::to_string(i) + " is not a string");
    if (v.add(j[i].get<std::string>()) != static_cast<int64_t>(i))
      throw Error("vocabulary entry " + std::to_string(i) + " repeats a word");
  }
  return v;
}

}  // namespace muroan
