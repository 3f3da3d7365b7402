#include "muroan/tokenizer.h"

namespace muroan {

std::vector<uint8_t> token_roles(const int64_t* ids, int64_t length, int64_t pad_id, const Tokenizer* tokenizer) {
  std::vector<uint8_t> roles(static_cast<size_t>(length), kPadRole);
  bool in_word = false;  // whether a word is open for a continuation piece
  for (int64_t i = 0; i < length; ++i) {
    if (ids[i] == pad_id) {
      in_word = false;
      continue;
    }
    TokenRole r = tokenizer ? tokenizer->role(ids[i]) : TokenRole::kWordStart;
    if (r == TokenRole::kContinuation && !in_word) r = TokenRole::kWordStart;
    in_word = r != TokenRole::kSpecial;
    roles[static_cast<size_t>(i)] = static_cast<uint8_t>(r);
  }
  return roles;
}

}  // namespace muroan
