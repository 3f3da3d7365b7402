#include "muroan/trainer.h"

#include <torch/nn/functional/loss.h>
#include <torch/optim/adam.h>
#include <torch/utils.h>

#include <cstdio>

#include "muroan/checkpoint.h"
#include "muroan/device.h"
#include "muroan/error.h"
#include "muroan/predict.h"
#include "muroan/progress.h"

namespace muroan {
namespace {

std::vector<torch::Tensor> snapshot(torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> copy;
  for (const auto& p : module.parameters()) copy.push_back(p.detach().clone());
  return copy;
}

void restore(torch::nn::Module& module, const std::vector<torch::Tensor>& copy) {
  torch::NoGradGuard no_grad;
  auto params = module.parameters();
  for (size_t i = 0; i < params.size(); ++i) params[i].copy_(copy[i]);
}

std::string fmt(const char* format, double a, double b, double c) {
  char buf[128];
  std::snprintf(buf, sizeof buf, format, a, b, c);
  return buf;
}

}  // namespace

TrainResult train_model(MultimodalNet& net, const TaskData& data, const TrainOptions& opt) {
  if (opt.epochs <= 0) throw UsageError("--epochs must be positive");
  if (opt.batch_size <= 0) throw UsageError("--batch-size must be positive");
  if (data.train.size() == 0 || data.val.size() == 0)
    throw Error("training needs non-empty train and validation splits");

  seed_everything(opt.seed);
  net->to(opt.device);
  const Inputs train_inputs = to_device(data.train.inputs, opt.device);
  const torch::Tensor train_labels = data.train.labels.to(opt.device);
  BuiltinClassifier val_view(net, data.modalities, data.classes, data.task, opt.device);

  torch::optim::Adam optimizer(net->parameters(), torch::optim::AdamOptions(opt.learning_rate));
  const int64_t n = data.train.size();
  const int64_t steps_per_epoch = (n + opt.batch_size - 1) / opt.batch_size;

  TrainResult result;
  std::vector<torch::Tensor> best_state = snapshot(*net);
  result.best_val_accuracy = -1;
  int64_t since_best = 0;
  result.chance_accuracy =
      data.val.labels.to(torch::kLong).bincount().max().item<double>() / static_cast<double>(data.val.size());
  ProgressBar total_bar("train " + data.task + "/" + net->config().fusion, opt.epochs * steps_per_epoch, true);

  for (int64_t epoch = 1; epoch <= opt.epochs; ++epoch) {
    net->train();
    ProgressBar bar("epoch " + std::to_string(epoch) + "/" + std::to_string(opt.epochs), steps_per_epoch, opt.quiet);
    const auto order = torch::randperm(n, torch::TensorOptions().dtype(torch::kLong)).to(opt.device);
    double loss_sum = 0, correct = 0;
    for (int64_t step = 0; step < steps_per_epoch; ++step) {
      const auto idx = order.slice(0, step * opt.batch_size, std::min(n, (step + 1) * opt.batch_size));
      Inputs batch = select_rows(train_inputs, idx);
      const auto labels = train_labels.index_select(0, idx);
      if (opt.transform_batch) batch = opt.transform_batch(batch, labels);
      optimizer.zero_grad();
      const auto logits = opt.batch_logits ? opt.batch_logits(batch, labels) : net->forward(batch);
      const auto loss = torch::nn::functional::cross_entropy(logits, labels);
      loss.backward();
      optimizer.step();
      loss_sum += loss.item<double>() * static_cast<double>(idx.size(0));
      correct += logits.argmax(1).eq(labels).sum().item<double>();
      const double seen = static_cast<double>(std::min(n, (step + 1) * opt.batch_size));
      bar.update(step + 1, fmt("loss %.3f acc %.3f", loss_sum / seen, correct / seen, 0));
    }
    EpochRecord rec;
    rec.epoch = epoch;
    rec.train_loss = loss_sum / static_cast<double>(n);
    rec.train_accuracy = correct / static_cast<double>(n);
    net->eval();
    rec.val_accuracy = accuracy(val_view, data.val.inputs, data.val.labels);
    rec.seconds = bar.elapsed_seconds();
    result.epochs.push_back(rec);
    const bool improved = rec.val_accuracy > result.best_val_accuracy;
    bar.finish(fmt("loss %.3f  train acc %.3f  val acc %.3f", rec.train_loss, rec.train_accuracy, rec.val_accuracy) +
               (improved ? "  *" : ""));
    if (improved) {
      result.best_val_accuracy = rec.val_accuracy;
      result.best_epoch = epoch;
      best_state = snapshot(*net);
      since_best = 0;
      result.left_plateau = rec.val_accuracy > result.chance_accuracy + opt.plateau_margin;
    } else if (result.left_plateau && ++since_best >= opt.patience) {
      if (!opt.quiet)
        std::fprintf(stderr, "early stop: no better validation accuracy for %lld epochs\n",
                     static_cast<long long>(opt.patience));
      break;
    }
  }
  restore(*net, best_state);
  net->eval();
  result.seconds = total_bar.elapsed_seconds();
  return result;
}

}  // namespace muroan
