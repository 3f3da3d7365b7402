#include "muroan/throughput.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>

#include "muroan/cpu_threads.h"
#include "muroan/error.h"
#include "muroan/gradients.h"
#include "muroan/predict.h"

namespace muroan {
namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

std::vector<ForwardThroughput> measure_forward_throughput(Classifier& model, const Inputs& sample,
                                                          const std::vector<int64_t>& batch_sizes,
                                                          const std::vector<int>& threads, double min_seconds) {
  if (batch_sizes.empty() || threads.empty()) throw UsageError("throughput: no batch sizes or thread counts");
  for (int64_t b : batch_sizes)
    if (b < 1) throw UsageError("throughput: batch sizes are >= 1, got " + std::to_string(b));
  for (int t : threads)
    if (t < 1) throw UsageError("throughput: thread counts are >= 1, got " + std::to_string(t));
  if (batch_size(sample) != 1) throw UsageError("throughput: expected one sample (one row per modality)");
  const CpuThreads before = current_cpu_threads();
  const Inputs one = to_device(sample, model.device());
  torch::NoGradGuard no_grad;
  std::vector<ForwardThroughput> out;
  for (int t : threads) {
    configure_cpu_threads(t, 0);
    for (int64_t b : batch_sizes) {
      Inputs batch;
      for (const auto& x : one) {
        auto sizes = x.sizes().vec();
        sizes[0] = b;
        batch.push_back(x.expand(sizes).contiguous());
      }
      // item() waits for the device, so GPU timings are complete.
      model.logits(batch).sum().item<double>();  // warm-up
      ForwardThroughput r;
      r.batch = b;
      r.threads = t;
      const auto start = std::chrono::steady_clock::now();
      do {
        model.logits(batch).sum().item<double>();
        r.rows += b;
        r.seconds = seconds_since(start);
      } while (r.seconds < min_seconds);
      r.rows_per_second = static_cast<double>(r.rows) / r.seconds;
      out.push_back(r);
    }
  }
  configure_cpu_threads(before.torch, 0);
  return out;
}

AttackThroughput measure_attack_throughput(Classifier& model, const SampleData& data, const AttackOptions& options,
                                           int64_t samples, int64_t parallel) {
  AttackOptions o = options;
  o.success = SuccessCriterion::kFlip;
  // make_attack checks the method's name before any work; cuDNN: one setting for every pass (gradients.h).
  const auto method = make_attack(o);
  CudnnOffForRnnBackward cudnn_off(cudnn_off_for_run(model, *method));
  AttackThroughput r;
  r.method = o.method;
  const torch::Tensor correct = predict_logits(model, data.inputs).argmax(1).eq(data.labels).to(torch::kCPU);
  std::vector<int64_t> chosen;
  for (int64_t i = 0; i < data.size() && static_cast<int64_t>(chosen.size()) < samples; ++i)
    if (correct[i].item<bool>()) chosen.push_back(i);
  std::vector<AttackResult> results(chosen.size());
  SampleScheduler scheduler(model, std::max<int64_t>(1, o.batch_size));
  const auto start = std::chrono::steady_clock::now();
  scheduler.run(
      static_cast<int64_t>(chosen.size()), parallel_samples_for(parallel, model),
      [&](int64_t k, Classifier& view) {
        const int64_t i = chosen[static_cast<size_t>(k)];
        const Inputs x = to_device(slice_rows(data.inputs, i, i + 1), model.device());
        results[static_cast<size_t>(k)] = make_attack(o)->attack(view, x, static_cast<uint64_t>(i));
      },
      [&](int64_t k) {
        const auto& result = results[static_cast<size_t>(k)];
        ++r.samples;
        r.queries += result.forward_passes;
        r.backward += result.backward_passes;
      });
  r.seconds = seconds_since(start);
  r.packed_passes = scheduler.passes();
  r.packed_rows = scheduler.rows();
  r.queries_per_second = r.seconds > 0 ? static_cast<double>(r.queries) / r.seconds : 0.0;
  return r;
}

}  // namespace muroan
