// Sample-parallel search: the searches of many samples advance together and
// their forward queries share passes.
//
// One search asks a few rows at a time (the reference attack 4 quadrants or a
// few words per round), too few to keep two cores, let alone a GPU, busy. The
// scheduler runs `work(i)` for up to `parallel` samples at once, each on its
// own thread with a Classifier view of the model; a gradient-free query on
// that view (logits, fusion, answer, ...) waits until every running search
// has asked its next one, and the scheduler then answers them all in forward
// passes of up to `pass_rows` rows, packed in sample order (rows that share an
// encoding keep sharing it). Each search sees the answers it would see alone,
// so a sample's result does not depend on `parallel`, up to the last bits of
// floating-point sums: a matrix product's rounding can depend on how many rows
// its pass holds (docs/performance.md). Only the thread that calls run()
// runs the model: the view's alone() and run_alone() (the reported numbers,
// the gradient passes of saliency and pgd) are answered there too, each in a
// pass of its own, and the search threads run LibTorch's parallel regions on
// one OpenMP thread each. A call with gradients made directly on the view
// goes straight to the model, on the search's thread.
//
//   SampleScheduler s(model, 256);
//   s.run(n, 16, [&](int64_t i, Classifier& m) { results[i] = attack->attack(m, x[i], i); },
//         [&](int64_t i) { write(results[i]); });  // in sample order, on this thread
#pragma once

#include <cstdint>
#include <functional>

#include "muroan/classifier.h"

namespace muroan {

// The CLI's default: 0, chosen by the device (parallel_samples_for).
inline constexpr int64_t kDefaultParallelSamples = 0;

// `requested` samples at a time, or for 0 the device's choice: 64 on a GPU,
// where a pass of a few rows wastes it; 1 on a CPU, where packing measured no
// faster on two cores (docs/performance.md). Throws UsageError below 0.
int64_t parallel_samples_for(int64_t requested, const Classifier& model);

class SampleScheduler {
 public:
  // `pass_rows`: most rows per packed forward pass (a query larger than this
  // is answered in a pass of its own).
  SampleScheduler(Classifier& model, int64_t pass_rows);

  // Calls work(i, view) for every i in [0, n). parallel <= 1: one after the
  // other on this thread, with the model itself. Otherwise on `parallel`
  // threads, sample i starting when a thread is free, in index order.
  // in_order(i) runs on this thread for i = 0, 1, ... once work(0..i) have
  // returned (what finished work can be written while the rest goes on). An
  // exception from work(i) or in_order(i) stops the other searches and is
  // rethrown here after in_order(0..i-1) ran; in_order never sees a later i.
  void run(int64_t n, int64_t parallel, const std::function<void(int64_t, Classifier&)>& work,
           const std::function<void(int64_t)>& in_order);

  // Packed passes made and query rows answered by the last run (parallel > 1).
  int64_t passes() const { return passes_; }
  int64_t rows() const { return rows_; }

 private:
  Classifier& model_;
  int64_t pass_rows_;
  int64_t passes_ = 0, rows_ = 0;
};

}  // namespace muroan
