// Tokenizer implementations (muroan/tokenizer.h); load_tokenizer picks one.
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "muroan/tokenizer.h"

namespace muroan::io {

// A path of a tokenizer file from the config's field `field`, relative to `base_dir`.
std::string tokenizer_file(const nlohmann::json& config, const char* field, const std::string& base_dir,
                           const std::string& where);

// Refuses fields of `config` outside `known`, so that a typo is not ignored.
void check_tokenizer_fields(const nlohmann::json& config, const std::set<std::string>& known, const std::string& where);
// A true/false field of `config`, `fallback` when absent.
bool tokenizer_flag(const nlohmann::json& config, const char* name, bool fallback, const std::string& where);

// The ids of a text from its `pieces`: `first` (e.g. [CLS]; -1: none), the
// whole words of `pieces` that fit in max_len (a word start and its
// continuation pieces, by the tokenizer's roles), then `last` (e.g. [SEP]).
// Throws InputError(where, ...) when max_len leaves no room for a word.
TokenizedText frame_words(const std::vector<int64_t>& pieces, const Tokenizer& tok, int64_t max_len, int64_t first,
                          int64_t last, const std::string& where);

std::shared_ptr<const Tokenizer> make_whitespace_tokenizer(const nlohmann::json& config, const std::string& base_dir,
                                                           const std::string& where);
std::shared_ptr<const Tokenizer> make_wordpiece_tokenizer(const nlohmann::json& config, const std::string& base_dir,
                                                          const std::string& where);
std::shared_ptr<const Tokenizer> make_sentencepiece_tokenizer(const nlohmann::json& config, const std::string& base_dir,
                                                              const std::string& where);

}  // namespace muroan::io
