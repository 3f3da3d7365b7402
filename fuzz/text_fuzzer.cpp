// Fuzz target: arbitrary bytes as text for the WordPiece and whitespace
// tokenizers; every id they give must be in the vocabulary, within max_len.
#include <nlohmann/json.hpp>

#include <cstdlib>

#include "fuzz_util.h"
#include "muroan/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace muroan::fuzz;
  static const std::vector<std::shared_ptr<const muroan::Tokenizer>> tokenizers = [] {
    const std::string vocab = "[PAD]\n[UNK]\n[CLS]\n[SEP]\nthis\nis\na\nbag\n##s\n##a\n!\nnot\n";
    write_scratch("vocab.txt", reinterpret_cast<const uint8_t*>(vocab.data()), vocab.size());
    const std::string words = R"(["<pad>", "<unk>", "not", "a", "bag"])";
    write_scratch("vocab.json", reinterpret_cast<const uint8_t*>(words.data()), words.size());
    const std::string dir = scratch_dir().string();
    return std::vector<std::shared_ptr<const muroan::Tokenizer>>{
        muroan::load_tokenizer(nlohmann::json{{"kind", "wordpiece"}, {"vocab", "vocab.txt"}}, dir, "fuzz"),
        muroan::load_tokenizer(nlohmann::json{{"kind", "whitespace"}, {"vocab", "vocab.json"}, {"unk_id", 1}}, dir,
                               "fuzz")};
  }();
  const std::string text(reinterpret_cast<const char*>(data), size);
  for (const auto& tok : tokenizers) {
    for (int64_t max_len : {3, 8, 64}) {
      expect_answer_or_error([&] {
        const auto t = tok->encode(text, max_len, "fuzz");
        if (static_cast<int64_t>(t.ids.size()) > max_len) std::abort();
        for (int64_t id : t.ids)
          if (id < 0 || id >= tok->size()) std::abort();
      });
    }
  }
  return 0;
}
