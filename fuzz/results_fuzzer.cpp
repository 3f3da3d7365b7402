// Fuzz target: results.jsonl (read_records, as resume, merge and report read
// it), then the summary of what was read, which refuses contradictions.
#include <nlohmann/json.hpp>

#include "fuzz_util.h"
#include "muroan/attack.h"
#include "muroan/measurement.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace muroan::fuzz;
  const std::string path = write_scratch("results.jsonl", data, size);
  expect_answer_or_error([&] {
    const auto records = muroan::read_records(path);
    const auto summary = muroan::summarize(records, "fuzz", muroan::AttackOptions{});
    muroan::summary_to_json(summary);
  });
  return 0;
}
