// The whitespace and WordPiece tokenizers, and load_tokenizer.
#include "io/tokenizers.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <set>
#include <sstream>
#include <unordered_map>

#include "io/json_fields.h"
#include "muroan/error.h"
#include "muroan/files.h"
#include "muroan/names.h"

namespace fs = std::filesystem;

namespace muroan::io {
namespace {

constexpr uint64_t kMaxVocabBytes = 64ull << 20;  // vocab.txt / tokenizer model: 64 MiB at most
constexpr size_t kMaxWordChars = 100;             // longer words are [UNK], as in BERT

std::string ascii_lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Words of `text` split on ASCII whitespace.
std::vector<std::string> split_whitespace(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> words;
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

nlohmann::json describe_file(const char* kind, const std::string& path) {
  return {{"kind", kind}, {"file", path}, {"fingerprint", file_fingerprint({path})}};
}

class WhitespaceTokenizer final : public Tokenizer {
 public:
  WhitespaceTokenizer(std::string path, std::unordered_map<std::string, int64_t> ids, int64_t size, int64_t unk_id,
                      bool lowercase)
      : path_(std::move(path)), ids_(std::move(ids)), unk_id_(unk_id), lowercase_(lowercase) {
    roles_.assign(static_cast<size_t>(size), static_cast<uint8_t>(TokenRole::kWordStart));
  }
  const char* kind() const override { return "whitespace"; }
  nlohmann::json describe() const override {
    auto j = describe_file(kind(), path_);
    j["lowercase"] = lowercase_;
    j["unk_id"] = unk_id_;
    return j;
  }
  TokenizedText encode(const std::string& text, int64_t max_len, const std::string& where) const override {
    TokenizedText out;
    for (const auto& word : split_whitespace(lowercase_ ? ascii_lower(text) : text)) {
      if (static_cast<int64_t>(out.ids.size()) == max_len) {
        out.truncated = true;
        break;
      }
      const auto it = ids_.find(word);
      if (it != ids_.end()) {
        out.ids.push_back(it->second);
      } else if (unk_id_ >= 0) {
        out.ids.push_back(unk_id_);
      } else {
        throw InputError(where, "word '" + word + "' is not in the tokenizer's vocabulary " + path_ +
                                    " (give \"unk_id\" to map unknown words)");
      }
    }
    return out;
  }

 private:
  std::string path_;
  std::unordered_map<std::string, int64_t> ids_;
  int64_t unk_id_;
  bool lowercase_;
};

// BERT's WordPiece: basic tokenization (optional ASCII lower-casing, split on
// whitespace and ASCII punctuation), then greedy longest-match-first pieces,
// continuation pieces prefixed "##"; [CLS] ... [SEP] around the text.
class WordPieceTokenizer final : public Tokenizer {
 public:
  WordPieceTokenizer(std::string path, const std::vector<std::string>& vocab, bool lowercase, bool add_special,
                     const std::string& where)
      : path_(std::move(path)), lowercase_(lowercase), add_special_(add_special) {
    roles_.assign(vocab.size(), static_cast<uint8_t>(TokenRole::kWordStart));
    for (size_t i = 0; i < vocab.size(); ++i) {
      ids_.emplace(vocab[i], static_cast<int64_t>(i));  // the first of duplicates wins, as in BERT
      longest_ = std::max(longest_, vocab[i].size());
      if (vocab[i].rfind("##", 0) == 0 && vocab[i].size() > 2)
        roles_[i] = static_cast<uint8_t>(TokenRole::kContinuation);
      else if (vocab[i] == "[CLS]" || vocab[i] == "[SEP]" || vocab[i] == "[PAD]" || vocab[i] == "[MASK]")
        roles_[i] = static_cast<uint8_t>(TokenRole::kSpecial);
    }
    unk_ = required_id("[UNK]", where);
    if (add_special_) {
      cls_ = required_id("[CLS]", where);
      sep_ = required_id("[SEP]", where);
    }
  }
  const char* kind() const override { return "wordpiece"; }
  nlohmann::json describe() const override {
    auto j = describe_file(kind(), path_);
    j["lowercase"] = lowercase_;
    j["add_special"] = add_special_;
    return j;
  }
  TokenizedText encode(const std::string& text, int64_t max_len, const std::string& where) const override {
    std::vector<int64_t> pieces;
    for (const auto& word : basic_words(lowercase_ ? ascii_lower(text) : text)) add_pieces(word, &pieces);
    return frame_words(pieces, *this, max_len, add_special_ ? cls_ : -1, add_special_ ? sep_ : -1, where);
  }

 private:
  int64_t required_id(const std::string& token, const std::string& where) const {
    const auto it = ids_.find(token);
    if (it == ids_.end()) throw InputError(where, "the WordPiece vocabulary " + path_ + " has no " + token);
    return it->second;
  }

  static std::vector<std::string> basic_words(const std::string& text) {
    std::vector<std::string> words;
    for (const auto& chunk : split_whitespace(text)) {
      std::string word;
      for (char c : chunk) {
        if (std::ispunct(static_cast<unsigned char>(c))) {
          if (!word.empty()) words.push_back(word);
          words.emplace_back(1, c);
          word.clear();
        } else {
          word += c;
        }
      }
      if (!word.empty()) words.push_back(word);
    }
    return words;
  }

  void add_pieces(const std::string& word, std::vector<int64_t>* out) const {
    if (word.size() > kMaxWordChars) {
      out->push_back(unk_);
      return;
    }
    std::vector<int64_t> pieces;
    size_t start = 0;
    while (start < word.size()) {
      // No piece is longer than the longest vocabulary entry ("##" included):
      // without this bound a 100-byte word costs 100^3 byte comparisons.
      size_t end = std::min(word.size(), start + longest_);
      int64_t found = -1;
      for (; end > start; --end) {
        const std::string piece = (start > 0 ? "##" : "") + word.substr(start, end - start);
        const auto it = ids_.find(piece);
        if (it != ids_.end()) {
          found = it->second;
          break;
        }
      }
      if (found < 0) {  // no piece fits: the whole word is unknown
        out->push_back(unk_);
        return;
      }
      pieces.push_back(found);
      start = end;
    }
    out->insert(out->end(), pieces.begin(), pieces.end());
  }

  std::string path_;
  std::unordered_map<std::string, int64_t> ids_;
  bool lowercase_, add_special_;
  size_t longest_ = 0;  // bytes of the longest vocabulary entry
  int64_t unk_ = -1, cls_ = -1, sep_ = -1;
};

}  // namespace

void check_tokenizer_fields(const nlohmann::json& config, const std::set<std::string>& known,
                            const std::string& where) {
  for (auto it = config.begin(); it != config.end(); ++it) {
    if (known.count(it.key())) continue;
    throw InputError(field_where(where, it.key()),
                     "not a field of this tokenizer (known: " + join_names({known.begin(), known.end()}) + ")");
  }
}

bool tokenizer_flag(const nlohmann::json& config, const char* name, bool fallback, const std::string& where) {
  if (!config.contains(name)) return fallback;
  if (!config[name].is_boolean())
    throw InputError(field_where(where, name), "expected true or false, got " + json_type_text(config[name]));
  return config[name].get<bool>();
}

std::string tokenizer_file(const nlohmann::json& config, const char* field, const std::string& base_dir,
                           const std::string& where) {
  const std::string file = string_field(config, field, where);
  if (file.empty()) throw InputError(field_where(where, field), "empty path");
  const fs::path p(file);
  return p.is_absolute() ? file : (fs::path(base_dir) / p).string();
}

TokenizedText frame_words(const std::vector<int64_t>& pieces, const Tokenizer& tok, int64_t max_len, int64_t first,
                          int64_t last, const std::string& where) {
  const int64_t room = max_len - (first >= 0 ? 1 : 0) - (last >= 0 ? 1 : 0);
  if (room <= 0) throw InputError(where, "max_len " + std::to_string(max_len) + " leaves no room for a word");
  size_t keep = 0;  // pieces of the whole words that fit
  for (size_t i = 0; i <= pieces.size(); ++i) {
    const bool boundary = i == pieces.size() || tok.role(pieces[i]) != TokenRole::kContinuation;
    if (!boundary) continue;
    if (static_cast<int64_t>(i) > room) break;
    keep = i;
  }
  TokenizedText out;
  out.truncated = keep < pieces.size();
  if (first >= 0) out.ids.push_back(first);
  out.ids.insert(out.ids.end(), pieces.begin(), pieces.begin() + static_cast<std::ptrdiff_t>(keep));
  if (last >= 0) out.ids.push_back(last);
  return out;
}

std::shared_ptr<const Tokenizer> make_whitespace_tokenizer(const nlohmann::json& config, const std::string& base_dir,
                                                           const std::string& where) {
  check_tokenizer_fields(config, {"kind", "vocab", "unk_id", "lowercase"}, where);
  const std::string path = tokenizer_file(config, "vocab", base_dir, where);
  const auto words = read_word_ids(path);
  std::unordered_map<std::string, int64_t> ids(words.begin(), words.end());
  int64_t size = 0;
  for (const auto& [w, id] : words) size = std::max(size, id + 1);
  int64_t unk = -1;
  if (config.contains("unk_id")) {
    unk = integer_field(config, "unk_id", where);
    if (unk < 0 || unk >= size)
      throw InputError(field_where(where, "unk_id"),
                       std::to_string(unk) + " is outside the vocabulary of " + std::to_string(size) + " ids");
  }
  return std::make_shared<WhitespaceTokenizer>(path, std::move(ids), size, unk,
                                               tokenizer_flag(config, "lowercase", false, where));
}

std::shared_ptr<const Tokenizer> make_wordpiece_tokenizer(const nlohmann::json& config, const std::string& base_dir,
                                                          const std::string& where) {
  check_tokenizer_fields(config, {"kind", "vocab", "lowercase", "add_special"}, where);
  const std::string path = tokenizer_file(config, "vocab", base_dir, where);
  const std::string text = read_file_limited(path, kMaxVocabBytes);
  std::vector<std::string> vocab;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    vocab.push_back(line);
  }
  if (vocab.empty()) throw InputError(path, "empty WordPiece vocabulary (expected one token a line)");
  return std::make_shared<WordPieceTokenizer>(path, vocab, tokenizer_flag(config, "lowercase", true, where),
                                              tokenizer_flag(config, "add_special", true, where), where);
}

}  // namespace muroan::io

namespace muroan {

std::shared_ptr<const Tokenizer> load_tokenizer(const nlohmann::json& config, const std::string& base_dir,
                                                const std::string& where) {
  if (!config.is_object())
    throw InputError(where, "expected an object such as {\"kind\": \"wordpiece\", \"vocab\": \"vocab.txt\"}, got " +
                                io::json_type_text(config));
  const std::string kind = io::string_field(config, "kind", where);
  if (kind == "whitespace") return io::make_whitespace_tokenizer(config, base_dir, where);
  if (kind == "wordpiece") return io::make_wordpiece_tokenizer(config, base_dir, where);
  if (kind == "sentencepiece") return io::make_sentencepiece_tokenizer(config, base_dir, where);
  throw InputError(io::field_where(where, "kind"),
                   "unknown tokenizer '" + kind + "' (known: whitespace, wordpiece, sentencepiece)");
}

}  // namespace muroan
