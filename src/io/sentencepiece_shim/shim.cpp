// A C interface to Debian's libsentencepiece, built as a module that MUROAN
// loads with dlopen(RTLD_LOCAL | RTLD_DEEPBIND) when a manifest names a
// SentencePiece tokenizer. Why not link it: libsentencepiece carries its own
// copy of protobuf-lite and exports its symbols; linked into a program with
// LibTorch (which loads libprotobuf) the two copies interpose each other and
// the program crashes before main (measured: a segfault in
// protobuf::internal::MergeFromImpl during static initialisation).
#include <sentencepiece_processor.h>

#include <cstring>
#include <string>
#include <vector>

namespace {

void copy_error(const std::string& what, char* err, size_t len) {
  if (!err || len == 0) return;
  std::strncpy(err, what.c_str(), len - 1);
  err[len - 1] = '\0';
}

}  // namespace

extern "C" {

// A processor for the serialized model, or null with the reason in `err`.
void* muroan_spm_load(const char* data, size_t size, char* err, size_t err_len) {
  auto* sp = new sentencepiece::SentencePieceProcessor();
  const auto status = sp->LoadFromSerializedProto(std::string(data, size));
  if (!status.ok()) {
    copy_error(status.ToString(), err, err_len);
    delete sp;
    return nullptr;
  }
  return sp;
}

void muroan_spm_free(void* sp) { delete static_cast<sentencepiece::SentencePieceProcessor*>(sp); }

int muroan_spm_size(void* sp) { return static_cast<sentencepiece::SentencePieceProcessor*>(sp)->GetPieceSize(); }

// 0: starts a word ("▁" first, or <unk>), 1: continues one, 2: control (<s>, </s>).
int muroan_spm_role(void* p, int id) {
  auto* sp = static_cast<sentencepiece::SentencePieceProcessor*>(p);
  if (sp->IsControl(id)) return 2;
  if (sp->IsUnknown(id) || sp->IdToPiece(id).rfind("\xE2\x96\x81", 0) == 0) return 0;
  return 1;
}

int muroan_spm_bos(void* sp) { return static_cast<sentencepiece::SentencePieceProcessor*>(sp)->bos_id(); }
int muroan_spm_eos(void* sp) { return static_cast<sentencepiece::SentencePieceProcessor*>(sp)->eos_id(); }

// Encodes `text` into `out` (room for `cap` ids); returns the number of ids
// (more than `cap`: call again with more room), or -1 with the reason in `err`.
long muroan_spm_encode(void* p, const char* text, size_t len, int* out, size_t cap, char* err, size_t err_len) {
  auto* sp = static_cast<sentencepiece::SentencePieceProcessor*>(p);
  std::vector<int> ids;
  const auto status = sp->Encode(std::string(text, len), &ids);
  if (!status.ok()) {
    copy_error(status.ToString(), err, err_len);
    return -1;
  }
  for (size_t i = 0; i < ids.size() && i < cap; ++i) out[i] = ids[i];
  return static_cast<long>(ids.size());
}

}  // extern "C"
