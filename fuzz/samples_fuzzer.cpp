// Fuzz target: samples.jsonl (load_samples) for an image + tokens model whose
// tokens come as ids or as text for a WordPiece tokenizer, with renamed fields;
// a valid PNG and JPEG lie beside the file for lines that name them.
#include <nlohmann/json.hpp>

#include "fuzz_util.h"
#include "muroan/png_image.h"
#include "muroan/sample_data.h"
#include "muroan/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace muroan::fuzz;
  static const std::vector<muroan::ModalitySpec> specs = [] {
    muroan::write_png((scratch_dir() / "x.png").string(), torch::zeros({1, 8, 8}));
    muroan::write_png((scratch_dir() / "big.png").string(), torch::ones({3, 11, 13}));
    const std::string vocab = "[PAD]\n[UNK]\n[CLS]\n[SEP]\nthis\nis\na\nbag\n##s\nnot\n";
    write_scratch("vocab.txt", reinterpret_cast<const uint8_t*>(vocab.data()), vocab.size());
    auto image = muroan::ModalitySpec::image("image", 1, 8, 8);
    image.resize = muroan::ResizeMode::kBilinear;
    auto tokens = muroan::ModalitySpec::tokens("tokens", 6, 0, 10);
    tokens.tokenizer = muroan::load_tokenizer(nlohmann::json{{"kind", "wordpiece"}, {"vocab", "vocab.txt"}},
                                              scratch_dir().string(), "fuzz");
    return std::vector<muroan::ModalitySpec>{image, tokens};
  }();
  static const std::vector<std::string> classes = {"no", "yes", "maybe"};
  static const std::map<std::string, std::string> fields = {{"image", "img"}};
  const std::string path = write_scratch("samples.jsonl", data, size);
  expect_answer_or_error([&] { muroan::load_samples(path, specs, classes, fields); });
  return 0;
}
