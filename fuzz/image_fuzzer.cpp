// Fuzz target: PNG and JPEG files (read_image, with and without an expected
// size), then the conversions a sample goes through.
#include "fuzz_util.h"
#include "muroan/png_image.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace muroan::fuzz;
  const std::string path = write_scratch("image", data, size);
  expect_answer_or_error([&] {
    const auto image = muroan::read_image(path);
    const auto grey = muroan::convert_channels(image, 1).to(torch::kFloat).div_(255.0);
    muroan::resize_image(grey, 8, 8, muroan::ResizeMode::kArea);
  });
  expect_answer_or_error([&] { muroan::read_image(path, 8, 8); });
  return 0;
}
