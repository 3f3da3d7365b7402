#include "muroan/sample_scheduler.h"

#include <torch/torch.h>

#include <algorithm>
#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "muroan/cpu_threads.h"
#include "muroan/error.h"

namespace muroan {

namespace {

using QueryBatch = Classifier::QueryBatch;
using QueryAnswer = Classifier::QueryAnswer;

// A query of one search, waiting on its thread's stack for its answer: rows
// to pack with other searches' (batch), or a pass of its own to run (task).
struct Query {
  int64_t sample = 0;
  const QueryBatch* batch = nullptr;
  const std::function<void(Classifier&)>* task = nullptr;
  QueryAnswer answer;
  std::exception_ptr error;
  bool answered = false;
};

// Thrown into a search that asks while the run is stopping (another sample
// failed); never reaches the caller of run().
class RunStopped : public std::runtime_error {
 public:
  RunStopped() : std::runtime_error("sample-parallel run stopped") {}
};

// What the searching threads and the packing thread share, under `mu`.
struct Shared {
  std::mutex mu;
  std::condition_variable to_main, to_searches;
  std::vector<Query*> pending;
  int64_t running = 0;  // threads inside work(): a round is complete when each has asked
  int64_t alive = 0;    // threads that have not exited
  int64_t next = 0, n = 0;
  bool stopping = false;
  std::vector<char> finished;
  std::vector<std::exception_ptr> errors;

  bool round_complete() const { return !stopping && running > 0 && static_cast<int64_t>(pending.size()) == running; }

  QueryAnswer ask(int64_t sample, const QueryBatch& batch) {
    Query q;
    q.sample = sample;
    q.batch = &batch;
    return wait_for(q);
  }

  void run(int64_t sample, const std::function<void(Classifier&)>& task) {
    Query q;
    q.sample = sample;
    q.task = &task;
    wait_for(q);
  }

 private:
  QueryAnswer wait_for(Query& q) {
    std::unique_lock<std::mutex> lock(mu);
    if (stopping) throw RunStopped();
    pending.push_back(&q);
    if (round_complete()) to_main.notify_one();
    to_searches.wait(lock, [&] { return q.answered || stopping; });
    if (!q.answered) {  // the packing thread takes no query once stopping is set
      pending.erase(std::find(pending.begin(), pending.end(), &q));
      throw RunStopped();
    }
    if (q.error) std::rethrow_exception(q.error);
    return std::move(q.answer);
  }
};

// What a search's views of the model have in common: the model's description,
// and run_alone() on the packing thread.
class SearchView : public Classifier {
 public:
  SearchView(Classifier& model, Shared& shared, const int64_t& sample)
      : model_(model), shared_(shared), sample_(sample) {}

  std::string name() const override { return model_.name(); }
  const std::vector<ModalitySpec>& modalities() const override { return model_.modalities(); }
  const std::vector<std::string>& classes() const override { return model_.classes(); }
  bool has_fusion() const override { return model_.has_fusion(); }
  torch::Device device() const override { return model_.device(); }
  bool supports_token_embeddings() const override { return model_.supports_token_embeddings(); }
  void run_alone(const std::function<void(Classifier&)>& pass) override { shared_.run(sample_, pass); }

 protected:
  Classifier& model_;
  Shared& shared_;
  const int64_t& sample_;  // the sample the search works on now
};

// The model alone as one search sees it: every gradient-free call runs on the
// packing thread, in a pass of its own, exactly as the search asked it.
class AloneView : public SearchView {
 public:
  using SearchView::SearchView;

  torch::Tensor logits(const Inputs& inputs) override {
    return on_packing_thread([&](Classifier& m) { return m.logits(inputs); });
  }
  torch::Tensor fusion(const Inputs& inputs) override {
    return on_packing_thread([&](Classifier& m) { return m.fusion(inputs); });
  }
  torch::Tensor embed_tokens(size_t modality, const torch::Tensor& ids) override {
    return on_packing_thread([&](Classifier& m) { return m.embed_tokens(modality, ids); });
  }
  torch::Tensor logits_from_embeddings(const Inputs& with_embeddings, const Inputs& original) override {
    return on_packing_thread([&](Classifier& m) { return m.logits_from_embeddings(with_embeddings, original); });
  }
  torch::Tensor logits_shared(const Inputs& inputs, const std::vector<bool>& shared, int64_t rows) override {
    return on_packing_thread([&](Classifier& m) { return m.logits_shared(inputs, shared, rows); });
  }
  torch::Tensor fusion_shared(const Inputs& inputs, const std::vector<bool>& shared, int64_t rows) override {
    return on_packing_thread([&](Classifier& m) { return m.fusion_shared(inputs, shared, rows); });
  }
  QueryAnswer answer(const QueryBatch& batch) override {
    if (torch::GradMode::is_enabled()) return model_.answer(batch);
    QueryAnswer a;
    shared_.run(sample_, [&](Classifier& m) { a = m.answer(batch); });
    return a;
  }

 private:
  // A call with gradients stays on the search's thread: its graph is the
  // caller's to differentiate (run_alone moves a whole gradient pass).
  template <typename Call>
  torch::Tensor on_packing_thread(const Call& call) {
    if (torch::GradMode::is_enabled()) return call(model_);
    torch::Tensor out;
    shared_.run(sample_, [&](Classifier& m) { out = call(m); });
    return out;
  }
};

// The model as one search sees it: gradient-free queries go to the packing
// thread and share passes with other searches' queries, alone() and
// run_alone() to the packing thread in passes of their own, everything else
// straight to the model.
class PackedView : public SearchView {
 public:
  PackedView(Classifier& model, Shared& shared)
      : SearchView(model, shared, current_), alone_(model, shared, current_) {}
  void set_sample(int64_t i) { current_ = i; }

  // Never packed (no other search asks for embeddings); without gradients a
  // pass of its own on the packing thread, like alone()'s.
  torch::Tensor embed_tokens(size_t m, const torch::Tensor& ids) override { return alone_.embed_tokens(m, ids); }
  torch::Tensor logits_from_embeddings(const Inputs& with_embeddings, const Inputs& original) override {
    return alone_.logits_from_embeddings(with_embeddings, original);
  }

  torch::Tensor logits(const Inputs& inputs) override {
    if (torch::GradMode::is_enabled()) return model_.logits(inputs);
    return answer(QueryBatch{inputs, {}, {}, false}).logits;
  }
  torch::Tensor fusion(const Inputs& inputs) override {
    if (torch::GradMode::is_enabled()) return model_.fusion(inputs);
    return answer(QueryBatch{inputs, {}, {}, true}).fusion;
  }
  torch::Tensor logits_shared(const Inputs& inputs, const std::vector<bool>& shared, int64_t rows) override {
    if (torch::GradMode::is_enabled()) return model_.logits_shared(inputs, shared, rows);
    return answer(QueryBatch{inputs, shared, {rows}, false}).logits;
  }
  torch::Tensor fusion_shared(const Inputs& inputs, const std::vector<bool>& shared, int64_t rows) override {
    if (torch::GradMode::is_enabled()) return model_.fusion_shared(inputs, shared, rows);
    return answer(QueryBatch{inputs, shared, {rows}, true}).fusion;
  }
  Classifier& alone() override { return alone_; }
  QueryAnswer answer(const QueryBatch& batch) override {
    if (torch::GradMode::is_enabled()) return model_.answer(batch);
    return shared_.ask(sample_, batch);
  }

 private:
  int64_t current_ = 0;  // the bases hold a reference to it (bound before it is initialised: only its address)
  AloneView alone_;
};

// Whether two queries can share a pass: the same inputs (count, row shape,
// type), the same shared inputs, and both or neither asking for the fusion.
bool packable(const Query& qa, const Query& qb) {
  if (qa.task || qb.task) return false;
  const QueryBatch& a = *qa.batch;
  const QueryBatch& b = *qb.batch;
  if (a.want_fusion != b.want_fusion || a.inputs.size() != b.inputs.size()) return false;
  if (a.has_shared() || b.has_shared()) {
    if (a.shared != b.shared || a.shared.size() != a.inputs.size()) return false;
  }
  for (size_t m = 0; m < a.inputs.size(); ++m) {
    const auto& x = a.inputs[m];
    const auto& y = b.inputs[m];
    if (!x.defined() || !y.defined() || x.dim() < 1 || x.dim() != y.dim()) return false;
    if (x.scalar_type() != y.scalar_type() || x.device() != y.device()) return false;
    if (!x.sizes().slice(1).equals(y.sizes().slice(1))) return false;
  }
  return true;
}

// One forward pass for `pass` (queries that are packable with each other).
void answer_pass(Classifier& model, const std::vector<Query*>& pass) {
  try {
    if (pass.front()->task) {  // a pass of its own, with the model itself
      (*pass.front()->task)(model);
    } else if (pass.size() == 1) {  // alone: exactly the search's own call
      pass.front()->answer = model.answer(*pass.front()->batch);
    } else {
      const QueryBatch& first = *pass.front()->batch;
      QueryBatch merged;
      merged.want_fusion = first.want_fusion;
      merged.shared = first.shared;
      const bool grouped = first.has_shared();
      for (size_t m = 0; m < first.inputs.size(); ++m) {
        std::vector<torch::Tensor> parts;
        for (const Query* q : pass) parts.push_back(q->batch->inputs[m]);
        merged.inputs.push_back(torch::cat(parts));
      }
      if (grouped)
        for (const Query* q : pass)
          merged.group_rows.insert(merged.group_rows.end(), q->batch->group_rows.begin(), q->batch->group_rows.end());
      const QueryAnswer a = model.answer(merged);
      int64_t offset = 0;
      for (Query* q : pass) {
        const int64_t rows = q->batch->rows();
        q->answer.logits = a.logits.narrow(0, offset, rows);
        if (merged.want_fusion) q->answer.fusion = a.fusion.narrow(0, offset, rows);
        offset += rows;
      }
    }
  } catch (...) {
    for (Query* q : pass) q->error = std::current_exception();
  }
  for (Query* q : pass) q->answered = true;
}

}  // namespace

int64_t parallel_samples_for(int64_t requested, const Classifier& model) {
  if (requested < 0)
    throw UsageError("parallel samples: " + std::to_string(requested) + " is not a count (0: the device's choice)");
  if (requested > 0) return requested;
  return model.device().is_cuda() ? 64 : 1;
}

SampleScheduler::SampleScheduler(Classifier& model, int64_t pass_rows) : model_(model), pass_rows_(pass_rows) {
  if (pass_rows_ < 1) throw std::invalid_argument("SampleScheduler: pass_rows must be positive");
}

void SampleScheduler::run(int64_t n, int64_t parallel, const std::function<void(int64_t, Classifier&)>& work,
                          const std::function<void(int64_t)>& in_order) {
  passes_ = rows_ = 0;
  if (parallel <= 1 || n <= 1) {
    for (int64_t i = 0; i < n; ++i) {
      work(i, model_);
      in_order(i);
    }
    return;
  }
  Shared s;
  s.n = n;
  s.finished.assign(static_cast<size_t>(n), 0);
  s.errors.assign(static_cast<size_t>(n), nullptr);
  const int64_t threads = std::min(parallel, n);
  // Every thread is counted as running before any starts, so that the first
  // round already waits for all of them: which samples share a pass never
  // depends on thread timing.
  s.running = s.alive = s.next = threads;

  auto search = [this, &s, &work](int64_t i) {
    single_threaded_torch_here();
    PackedView view(model_, s);
    std::unique_lock<std::mutex> lock(s.mu);
    while (true) {
      view.set_sample(i);
      lock.unlock();
      std::exception_ptr error;
      try {
        work(i, view);
      } catch (...) {
        error = std::current_exception();
      }
      lock.lock();
      s.errors[static_cast<size_t>(i)] = error;
      s.finished[static_cast<size_t>(i)] = 1;
      s.to_main.notify_one();  // its result may be next to write
      // The next sample is taken under the same lock, so the count of running
      // searches does not dip between two samples.
      if (s.stopping || s.next >= s.n) break;
      i = s.next++;
    }
    --s.running;
    --s.alive;
    s.to_main.notify_one();
  };
  std::vector<std::thread> pool;
  pool.reserve(static_cast<size_t>(threads));
  try {
    for (int64_t t = 0; t < threads; ++t) pool.emplace_back(search, t);
  } catch (...) {  // no thread to be had: stop the ones started, never abort
    {
      std::lock_guard<std::mutex> lock(s.mu);
      const auto missing = threads - static_cast<int64_t>(pool.size());
      s.running -= missing;
      s.alive -= missing;
      s.stopping = true;
      s.to_searches.notify_all();
    }
    for (auto& t : pool) t.join();
    throw;
  }

  torch::NoGradGuard no_grad;
  std::exception_ptr failure;
  int64_t written = 0;
  {
    std::unique_lock<std::mutex> lock(s.mu);
    while (true) {
      const auto can_write = [&] { return !failure && written < n && s.finished[static_cast<size_t>(written)]; };
      s.to_main.wait(lock, [&] { return s.round_complete() || s.alive == 0 || can_write(); });
      while (can_write()) {
        if (s.errors[static_cast<size_t>(written)]) {
          failure = s.errors[static_cast<size_t>(written)];
          break;
        }
        lock.unlock();
        try {
          in_order(written);
        } catch (...) {
          failure = std::current_exception();
        }
        lock.lock();
        if (!failure) ++written;
      }
      if (failure && !s.stopping) {
        s.stopping = true;
        s.to_searches.notify_all();
      }
      if (s.alive == 0) break;
      if (!s.round_complete()) continue;

      std::vector<Query*> round;
      round.swap(s.pending);
      lock.unlock();
      // Packed in sample order; queries that cannot share a pass with the
      // first unanswered one wait for a later pass of this round.
      std::sort(round.begin(), round.end(), [](const Query* a, const Query* b) { return a->sample < b->sample; });
      std::vector<char> taken(round.size(), 0);
      for (size_t first = 0; first < round.size(); ++first) {
        if (taken[first]) continue;
        std::vector<Query*> pass;
        int64_t rows = 0;
        for (size_t k = first; k < round.size(); ++k) {
          if (taken[k] || (k != first && !packable(*round[first], *round[k]))) continue;
          const int64_t r = round[k]->task ? 0 : round[k]->batch->rows();
          if (!pass.empty() && rows + r > pass_rows_) continue;
          pass.push_back(round[k]);
          taken[k] = 1;
          rows += r;
        }
        answer_pass(model_, pass);
        if (!pass.front()->task) ++passes_;  // a search's own pass is not a packed one
        rows_ += rows;
      }
      lock.lock();
      s.to_searches.notify_all();
    }
  }
  for (auto& t : pool) t.join();
  if (failure) std::rethrow_exception(failure);
}

}  // namespace muroan
