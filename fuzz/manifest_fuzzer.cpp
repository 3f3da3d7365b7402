// Fuzz target: manifest.json (load_manifest), with a vocab and tokenizer files
// beside it so that references to them can resolve.
#include "fuzz_util.h"
#include "muroan/torchscript_model.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace muroan::fuzz;
  static const bool once = [] {
    const std::string vocab = "[PAD]\n[UNK]\n[CLS]\n[SEP]\nthis\nis\n##s\n";
    write_scratch("vocab.txt", reinterpret_cast<const uint8_t*>(vocab.data()), vocab.size());
    const std::string words = R"(["<pad>", "<unk>", "not", "a", "bag"])";
    write_scratch("vocab.json", reinterpret_cast<const uint8_t*>(words.data()), words.size());
    return true;
  }();
  (void)once;
  const std::string path = write_scratch("manifest.json", data, size);
  expect_answer_or_error([&] { muroan::load_manifest(path); });
  return 0;
}
