// Fuzz target: checkpoint.json (load_checkpoint) beside the weights.pt of a
// small valid model, so that a checkpoint.json that parses also meets the
// weights (shapes that do not fit them must be refused, not crash).
#include <cstdlib>
#include <filesystem>

#include "fuzz_util.h"
#include "muroan/checkpoint.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace muroan::fuzz;
  namespace fs = std::filesystem;
  static const fs::path dir = [] {
    muroan::Checkpoint ck;
    ck.config.fusion = "concat";
    ck.config.image_channels = 1;
    ck.config.image_height = ck.config.image_width = 8;
    ck.config.vocab_size = 6;
    ck.config.max_len = 4;
    ck.config.num_classes = 2;
    ck.config.dim = ck.config.head_hidden = 4;
    ck.config.embed_dim = 2;
    ck.task = "fashion-match";
    ck.classes = {"no", "yes"};
    ck.modalities = {muroan::ModalitySpec::image("image", 1, 8, 8), muroan::ModalitySpec::tokens("tokens", 4, 0, 6)};
    ck.vocab = muroan::Vocabulary({"w2", "w3", "w4", "w5"});
    torch::manual_seed(1);
    ck.net = muroan::MultimodalNet(ck.config);
    const fs::path d = scratch_dir() / "checkpoint";
    muroan::save_checkpoint(ck, d.string());
    // MUROAN_FUZZ_SEED=FILE: keep a copy of the valid checkpoint.json (how
    // fuzz/corpus/checkpoint/ was made).
    if (const char* seed = std::getenv("MUROAN_FUZZ_SEED")) fs::copy_file(d / "checkpoint.json", seed);
    return d;
  }();
  write_scratch("checkpoint/checkpoint.json", data, size);
  expect_answer_or_error([&] { muroan::load_checkpoint(dir.string(), torch::kCPU); });
  return 0;
}
