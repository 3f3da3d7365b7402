// Tokenizers for text given as a string (DESIGN.md 5.3), and the roles of
// token ids that decide what a point of a token modality is.
//
// A point of a token modality is a word: a token that starts a word together
// with the continuation pieces that follow it (WordPiece "##ing", SentencePiece
// pieces without the leading "▁"). Special tokens ([CLS], [SEP], <s>, </s>) are
// no point at all: they are never decoupled and not counted. Without a
// tokenizer every non-pad token is a word.
//
//   auto tok = muroan::load_tokenizer(manifest["inputs"][1]["tokenizer"], "data/", "manifest.json: inputs[1]");
//   muroan::TokenizedText t = tok->encode("a fluffy cat", /*max_len=*/12);
//   // t.ids = {101, 1037, 1042, 7630, 4246, 100, 102}: [CLS] a f ##lu ##ffy ... [SEP]
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace muroan {

enum class TokenRole : uint8_t {
  kWordStart = 0,     // a point of its own
  kContinuation = 1,  // joins the point of the token before it
  kSpecial = 2,       // never a point, never decoupled
};

struct TokenizedText {
  std::vector<int64_t> ids;  // at most max_len, special tokens included
  bool truncated = false;    // whole words were dropped to fit max_len
};

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  // "whitespace", "wordpiece" or "sentencepiece".
  virtual const char* kind() const = 0;
  // The ids of `text`, truncated on a word boundary to at most `max_len` ids
  // (special tokens the tokenizer adds are kept). Throws InputError(where, ...)
  // when the text cannot be encoded (e.g. an unknown word without an unk id).
  virtual TokenizedText encode(const std::string& text, int64_t max_len, const std::string& where) const = 0;
  // Number of ids (the vocabulary size).
  int64_t size() const { return static_cast<int64_t>(roles_.size()); }
  // The role of `id`; ids outside the vocabulary are word starts.
  TokenRole role(int64_t id) const {
    return id >= 0 && id < size() ? static_cast<TokenRole>(roles_[static_cast<size_t>(id)]) : TokenRole::kWordStart;
  }
  // What the tokenizer was built from, for run.json: kind, file, its fingerprint.
  virtual nlohmann::json describe() const = 0;

 protected:
  std::vector<uint8_t> roles_;  // TokenRole by id
};

// A tokenizer from its manifest entry, e.g.
//   {"kind": "whitespace", "vocab": "vocab.json", "unk_id": 1, "lowercase": false}
//   {"kind": "wordpiece", "vocab": "vocab.txt", "lowercase": true}
//   {"kind": "sentencepiece", "model": "spm.model", "add_bos": false, "add_eos": false}
// Relative paths are relative to `base_dir`. Throws InputError(where: field ..., ...).
std::shared_ptr<const Tokenizer> load_tokenizer(const nlohmann::json& config, const std::string& base_dir,
                                                const std::string& where);

// The role of each position of one token row `ids[0..length)`: a TokenRole
// value, or kPadRole for a pad. Without a tokenizer every non-pad position
// starts a word. A continuation piece with no word before it (first position,
// after a pad or a special token) starts a word.
constexpr uint8_t kPadRole = 255;
std::vector<uint8_t> token_roles(const int64_t* ids, int64_t length, int64_t pad_id, const Tokenizer* tokenizer);

}  // namespace muroan
