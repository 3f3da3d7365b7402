// Helpers shared by the generators: sample ids and token encoding.
#include <cstdio>

#include "data/generators.h"

namespace muroan {
namespace data {

std::string sample_id(const std::string& split, int64_t index) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "-%06lld", static_cast<long long>(index));
  return split + buf;
}

torch::Tensor encode_texts(const Vocabulary& vocab, const std::vector<std::string>& texts, int64_t max_len) {
  auto tokens = torch::empty({static_cast<int64_t>(texts.size()), max_len}, torch::kLong);
  int64_t* p = tokens.data_ptr<int64_t>();
  for (const auto& text : texts) {
    for (int64_t id : vocab.encode(text, max_len)) *p++ = id;
  }
  return tokens;
}

}  // namespace data
}  // namespace muroan
