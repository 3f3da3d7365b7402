// SentencePiece models as a MUROAN tokenizer: a piece that begins with "▁"
// (U+2581, the model's space) starts a word, the other pieces continue it,
// control pieces (<s>, </s>) are special. Debian's libsentencepiece does the
// work, through a module loaded on first use (sentencepiece_shim/shim.cpp says
// why it cannot be linked beside LibTorch).
#include <dlfcn.h>

#include <mutex>
#include <type_traits>

#include "io/json_fields.h"
#include "io/tokenizers.h"
#include "muroan/error.h"
#include "muroan/files.h"

#if defined(__SANITIZE_ADDRESS__)
#define MUROAN_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MUROAN_ASAN 1
#endif
#endif
#ifndef MUROAN_ASAN
#define MUROAN_ASAN 0
#endif

namespace muroan::io {
namespace {

constexpr uint64_t kMaxModelBytes = 64ull << 20;
constexpr size_t kErrorBytes = 512;

// The shim's functions, resolved once.
struct Shim {
  void* (*load)(const char*, size_t, char*, size_t) = nullptr;
  void (*free)(void*) = nullptr;
  int (*size)(void*) = nullptr;
  int (*role)(void*, int) = nullptr;
  int (*bos)(void*) = nullptr;
  int (*eos)(void*) = nullptr;
  long (*encode)(void*, const char*, size_t, int*, size_t, char*, size_t) = nullptr;
  std::string error;  // why the shim is unavailable
};

const Shim& shim() {
  static Shim s;
  static std::once_flag once;
  std::call_once(once, [] {
#if MUROAN_ASAN
    // The sanitizers refuse RTLD_DEEPBIND, without which the module's
    // protobuf copy would bind to LibTorch's.
    s.error = "SentencePiece tokenizers are not available in a sanitizer build";
    return;
#else
    void* lib = nullptr;
    std::string tried;
    for (const char* path : {MUROAN_SENTENCEPIECE_SHIM, MUROAN_SENTENCEPIECE_SHIM_INSTALLED, "libmuroan_sentencepiece.so"}) {
      lib = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
      if (lib) break;
      tried += std::string(tried.empty() ? "" : "; ") + dlerror();
    }
    if (!lib) {
      s.error = "cannot load MUROAN's SentencePiece module (" + tried + ")";
      return;
    }
    auto sym = [&](auto& fn, const char* name) {
      fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(dlsym(lib, name));
      if (!fn && s.error.empty()) s.error = std::string("MUROAN's SentencePiece module lacks ") + name;
    };
    sym(s.load, "muroan_spm_load");
    sym(s.free, "muroan_spm_free");
    sym(s.size, "muroan_spm_size");
    sym(s.role, "muroan_spm_role");
    sym(s.bos, "muroan_spm_bos");
    sym(s.eos, "muroan_spm_eos");
    sym(s.encode, "muroan_spm_encode");
#endif
  });
  return s;
}

class SentencePieceTokenizer final : public Tokenizer {
 public:
  SentencePieceTokenizer(std::string path, const std::string& model, bool add_bos, bool add_eos,
                         const std::string& where)
      : path_(std::move(path)), add_bos_(add_bos), add_eos_(add_eos) {
    const Shim& api = shim();
    if (!api.error.empty()) throw InputError(where, api.error);
    char err[kErrorBytes] = "";
    sp_ = api.load(model.data(), model.size(), err, sizeof err);
    if (!sp_) throw InputError(path_, std::string("not a SentencePiece model: ") + err);
    const int n = api.size(sp_);
    roles_.resize(static_cast<size_t>(n));
    for (int id = 0; id < n; ++id) roles_[static_cast<size_t>(id)] = static_cast<uint8_t>(api.role(sp_, id));
    bos_ = api.bos(sp_);
    eos_ = api.eos(sp_);
    if (add_bos_ && bos_ < 0) throw InputError(field_where(where, "add_bos"), "the model has no <s> piece");
    if (add_eos_ && eos_ < 0) throw InputError(field_where(where, "add_eos"), "the model has no </s> piece");
  }
  ~SentencePieceTokenizer() override {
    if (sp_) shim().free(sp_);
  }
  SentencePieceTokenizer(const SentencePieceTokenizer&) = delete;
  SentencePieceTokenizer& operator=(const SentencePieceTokenizer&) = delete;

  const char* kind() const override { return "sentencepiece"; }
  nlohmann::json describe() const override {
    return {{"kind", kind()},
            {"file", path_},
            {"fingerprint", file_fingerprint({path_})},
            {"add_bos", add_bos_},
            {"add_eos", add_eos_}};
  }
  TokenizedText encode(const std::string& text, int64_t max_len, const std::string& where) const override {
    std::vector<int> ids(text.size() + 16);  // rarely more pieces than bytes; retried if so
    char err[kErrorBytes] = "";
    long n = shim().encode(sp_, text.data(), text.size(), ids.data(), ids.size(), err, sizeof err);
    if (n > static_cast<long>(ids.size())) {
      ids.resize(static_cast<size_t>(n));
      n = shim().encode(sp_, text.data(), text.size(), ids.data(), ids.size(), err, sizeof err);
    }
    if (n < 0) throw InputError(where, std::string("SentencePiece cannot encode the text: ") + err);
    const std::vector<int64_t> pieces(ids.begin(), ids.begin() + n);
    return frame_words(pieces, *this, max_len, add_bos_ ? bos_ : -1, add_eos_ ? eos_ : -1, where);
  }

 private:
  std::string path_;
  void* sp_ = nullptr;
  bool add_bos_, add_eos_;
  int bos_ = -1, eos_ = -1;
};

}  // namespace

std::shared_ptr<const Tokenizer> make_sentencepiece_tokenizer(const nlohmann::json& config, const std::string& base_dir,
                                                              const std::string& where) {
  check_tokenizer_fields(config, {"kind", "model", "add_bos", "add_eos"}, where);
  const std::string path = tokenizer_file(config, "model", base_dir, where);
  return std::make_shared<SentencePieceTokenizer>(path, read_file_limited(path, kMaxModelBytes),
                                                  tokenizer_flag(config, "add_bos", false, where),
                                                  tokenizer_flag(config, "add_eos", false, where), where);
}

}  // namespace muroan::io
