#include "muroan/training_record.h"

#include "muroan/error.h"
#include "muroan/json_value.h"

namespace muroan {
namespace {

// The field `name` of `j` into *out when present; throws InputError when it
// holds another type.
template <typename T>
void read_optional(const nlohmann::json& j, const char* name, const std::string& where, T* out) {
  const auto it = j.find(name);
  if (it != j.end()) *out = json_value_as<T>(*it, name, where);
}

}  // namespace

std::string TrainingRecord::defense_name() const {
  const auto it = defense.find("name");
  return it != defense.end() && it->is_string() ? it->get<std::string>() : "none";
}

nlohmann::json TrainingRecord::to_json() const {
  nlohmann::json epochs = nlohmann::json::array();
  for (const auto& e : history)
    epochs.push_back({{"epoch", e.epoch},
                      {"train_loss", e.train_loss},
                      {"train_accuracy", e.train_accuracy},
                      {"val_accuracy", e.val_accuracy},
                      {"seconds", e.seconds}});
  return {{"epochs_max", epochs_max},
          {"batch_size", batch_size},
          {"learning_rate", learning_rate},
          {"patience", patience},
          {"seed", seed},
          {"device", device},
          {"best_epoch", best_epoch},
          {"val_accuracy", val_accuracy},
          {"test_accuracy", test_accuracy},
          {"test_samples", test_samples},
          {"parameters", parameters},
          {"seconds", seconds},
          {"chance_accuracy", chance_accuracy},
          {"left_plateau", left_plateau},
          {"history", epochs},
          {"defense", defense}};
}

TrainingRecord TrainingRecord::from_json(const nlohmann::json& j, const std::string& where) {
  if (!j.is_object()) throw InputError(where, "expected an object");
  TrainingRecord r;
  read_optional(j, "epochs_max", where, &r.epochs_max);
  read_optional(j, "batch_size", where, &r.batch_size);
  read_optional(j, "learning_rate", where, &r.learning_rate);
  read_optional(j, "patience", where, &r.patience);
  read_optional(j, "seed", where, &r.seed);
  read_optional(j, "device", where, &r.device);
  read_optional(j, "best_epoch", where, &r.best_epoch);
  read_optional(j, "val_accuracy", where, &r.val_accuracy);
  read_optional(j, "test_accuracy", where, &r.test_accuracy);
  read_optional(j, "test_samples", where, &r.test_samples);
  read_optional(j, "parameters", where, &r.parameters);
  read_optional(j, "seconds", where, &r.seconds);
  read_optional(j, "chance_accuracy", where, &r.chance_accuracy);
  read_optional(j, "left_plateau", where, &r.left_plateau);
  if (const auto it = j.find("history"); it != j.end()) {
    if (!it->is_array()) throw InputError(where, "field 'history' has the wrong type");
    for (size_t i = 0; i < it->size(); ++i) {
      const auto& e = (*it)[i];
      const std::string at = where + ": history[" + std::to_string(i) + "]";
      if (!e.is_object()) throw InputError(at, "expected an object");
      EpochRecord rec;
      read_optional(e, "epoch", at, &rec.epoch);
      read_optional(e, "train_loss", at, &rec.train_loss);
      read_optional(e, "train_accuracy", at, &rec.train_accuracy);
      read_optional(e, "val_accuracy", at, &rec.val_accuracy);
      read_optional(e, "seconds", at, &rec.seconds);
      r.history.push_back(rec);
    }
  }
  if (const auto it = j.find("defense"); it != j.end()) {
    if (!it->is_object()) throw InputError(where, "field 'defense' has the wrong type");
    r.defense = *it;
  }
  return r;
}

}  // namespace muroan
