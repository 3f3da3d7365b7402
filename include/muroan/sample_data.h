// Samples on disk in the bring-your-own-model format (DIR/samples.jsonl, DESIGN.md
// section 5): one JSON object a line,
//
//   {"id": "0007", "image": "images/0007.png", "text": "is there a bag",
//    "tokens": [5, 9, 2, 14], "label": 11}
//
// with one field per model input, named as the input: an image input holds the
// path of an 8-bit grey or RGB PNG relative to the file, a token input a list of
// ids (at most max_len, padded here with pad_id); `id` (string) and `label`
// (class index) are required, `text` is optional and only for people. `id` is a
// string or an integer. `fields` (the manifest's "fields") renames them: input
// name (or "id", "label", "text") -> the field of the sample line that holds it.
//
//   SampleData data = load_samples("byom/samples.jsonl", model->modalities(), model->classes());
//   save_samples(split, task.modalities, "out/");  // the other way round
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "muroan/modality.h"
#include "muroan/task.h"

namespace muroan {

// Samples read from samples.jsonl: the same as a split of a built-in task
// (inputs, one tensor per modality on the CPU; labels; ids; texts, "" where absent).
using SampleData = Split;

// Reads `jsonl_path` for a model with inputs `modalities` and `classes`. Throws
// InputError "file:line: field 'name': what" for the first sample that does not
// fit: not JSON, a missing or mistyped field, an unreadable PNG or one whose
// size or channels differ from the modality's shape, too many tokens, a token id
// outside [0, vocab_size) (when vocab_size is known), a tabular row of another
// length, an audio file that is not mono at the input's rate or has more than
// T samples (shorter audio is padded with the fill), a label outside the
// classes, a repeated id; and InputError "file: no samples" for an empty file.
SampleData load_samples(const std::string& jsonl_path, const std::vector<ModalitySpec>& modalities,
                        const std::vector<std::string>& classes, const std::map<std::string, std::string>& fields = {});

// "SOURCE: N of M texts were longer than the input's max_len; ..." when a
// tokenizer cut texts of `data` (read from `source`); empty when none was cut.
std::string truncation_warning(const SampleData& data, const std::string& source);

// Writes DIR/samples.jsonl, the PNGs of image modalities under DIR/images/ and
// float WAVs of audio modalities under DIR/audio/ (creating DIR); values of
// images are clamped to [0,1] and stored in 8 bits.
// Throws InputError when a file cannot be written.
void save_samples(const SampleData& data, const std::vector<ModalitySpec>& modalities, const std::string& dir);

// Writes the first `max_samples` (0: all) samples of `task`'s split `split`
// (train, val or test) with save_samples, and DIR/task.json describing them for
// a training script: task, split, inputs (as in a manifest, with vocab_size),
// classes, vocabulary (words by id). Returns the number of samples written.
int64_t export_task_split(const TaskData& task, const std::string& split, int64_t max_samples, const std::string& dir);

}  // namespace muroan
