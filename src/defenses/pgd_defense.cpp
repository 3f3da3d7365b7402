// pgd-at: traditional adversarial training (Madry et al. 2018). Each batch's
// defended rows are replaced by PGD examples that maximise the cross-entropy:
// L-infinity on the image (values kept in [0,1]) and, for the text, on the token
// embeddings (real positions only). The model then trains on the perturbed
// embeddings, so the gradient still reaches the embedding table.
#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "defenses/defenses.h"
#include "muroan/error.h"
#include "muroan/gradients.h"

namespace muroan {
namespace {

// Uniform noise in [-radius, radius], drawn on the CPU, moved to `like`.
torch::Tensor uniform_noise(const torch::Tensor& like, double radius, torch::Generator& gen) {
  auto u = torch::rand(like.sizes(), gen, torch::kFloat);
  return ((u * 2.0 - 1.0) * radius).to(like.device()).to(like.dtype());
}

}  // namespace

PgdExamples pgd_examples(MultimodalNet& net, const Inputs& batch, const torch::Tensor& labels, const DefenseOptions& o,
                         torch::Generator& gen) {
  if (batch.size() != 2) throw Error("pgd-at: the built-in model takes an image and tokens");
  const auto& x = batch[0];
  const auto& tokens = batch[1];
  const double steps = static_cast<double>(o.steps);
  const double step = o.step_size > 0 ? o.step_size : 2.5 * o.eps / steps;
  const double text_step = o.step_size > 0 ? o.step_size * o.text_eps / o.eps : 2.5 * o.text_eps / steps;
  const bool text = o.text_eps > 0;
  CudnnOffForRnnBackward cudnn_guard(!net->is_training() && x.device().is_cuda());

  torch::Tensor image, delta, base, real;
  {
    torch::NoGradGuard no_grad;
    image = o.eps > 0 ? (x + uniform_noise(x, o.eps, gen)).clamp(0.0, 1.0) : x;
    if (text) {
      base = net->embed_tokens(tokens).detach();
      real = (tokens != net->config().pad_id).unsqueeze(-1).to(base.dtype());
      delta = uniform_noise(base, o.text_eps, gen) * real;
    }
  }
  for (int64_t s = 0; s < o.steps; ++s) {
    torch::AutoGradMode grad_mode(true);
    auto image_var = image.detach().requires_grad_(o.eps > 0);
    std::vector<torch::Tensor> wrt;
    if (o.eps > 0) wrt.push_back(image_var);
    torch::Tensor logits;
    if (text) {
      auto delta_var = delta.detach().requires_grad_(true);
      wrt.push_back(delta_var);
      logits = net->forward_embedded(image_var, base + delta_var, tokens);
    } else {
      logits = net->forward(image_var, tokens);
    }
    const auto loss = torch::nn::functional::cross_entropy(
        logits, labels, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum));
    const auto grads = torch::autograd::grad({loss}, wrt, {}, false, false, /*allow_unused=*/true);
    torch::NoGradGuard no_grad;
    size_t g = 0;
    if (o.eps > 0) {
      const auto& gi = grads[g++];
      if (gi.defined()) image = linf_step(image, gi, x, step, o.eps).clamp(0.0, 1.0);
    }
    if (text) {
      const auto& gd = grads[g];
      if (gd.defined()) delta = linf_step(delta, gd, torch::Tensor(), text_step, o.text_eps) * real;
    }
  }
  return {image.detach(), text ? delta.detach() : torch::Tensor()};
}

namespace {

class PgdAtDefense : public Defense {
 public:
  PgdAtDefense(const DefenseOptions& o, MultimodalNet net)
      : Defense(o), net_(std::move(net)), gen_(make_cpu_generator(o.seed)) {}

  torch::Tensor logits(const Inputs& batch, const torch::Tensor& labels) {
    const int64_t rows = batch_size(batch);
    const int64_t head = defended_rows(options().fraction, rows);
    const Inputs adv_rows = slice_rows(batch, 0, head);
    const auto adv_labels = labels.slice(0, 0, head);
    const PgdExamples ex = pgd_examples(net_, adv_rows, adv_labels, options(), gen_);
    torch::Tensor adv_logits =
        ex.embedding_delta.defined()
            ? net_->forward_embedded(ex.image, net_->embed_tokens(adv_rows[1]) + ex.embedding_delta, adv_rows[1])
            : net_->forward(ex.image, adv_rows[1]);
    {
      torch::NoGradGuard no_grad;
      linf_sum_ += (ex.image - adv_rows[0]).abs().flatten(1).amax(1).sum().item<double>();
      wrong_ += adv_logits.argmax(1).ne(adv_labels).sum().item<int64_t>();
    }
    ++batches_;
    defended_rows_ += head;
    if (head == rows) return adv_logits;
    const Inputs rest = slice_rows(batch, head, rows);
    return torch::cat({adv_logits, net_->forward(rest[0], rest[1])}, 0);
  }

 protected:
  void add_stats(nlohmann::json& stats) const override {
    const double n = static_cast<double>(std::max<int64_t>(1, defended_rows_));
    stats["mean_image_linf"] = linf_sum_ / n;
    stats["adversarial_error"] = static_cast<double>(wrong_) / n;  // share of PGD rows misclassified
  }

 private:
  MultimodalNet net_;
  torch::Generator gen_;
  double linf_sum_ = 0;
  int64_t wrong_ = 0;
};

}  // namespace

std::shared_ptr<Defense> install_pgd_at(const DefenseOptions& options, MultimodalNet net, TrainOptions& train) {
  auto d = std::make_shared<PgdAtDefense>(options, std::move(net));
  train.batch_logits = [d](const Inputs& batch, const torch::Tensor& labels) { return d->logits(batch, labels); };
  return d;
}

}  // namespace muroan
