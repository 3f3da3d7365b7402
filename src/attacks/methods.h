// Private: the constructors of the attack methods, one per file, for make_attack.
#pragma once

#include <memory>

#include "muroan/attack.h"

namespace muroan {

std::unique_ptr<Attack> make_reference_attack(const AttackOptions& options);
std::unique_ptr<Attack> make_greedy_attack(const AttackOptions& options);
std::unique_ptr<Attack> make_saliency_attack(const AttackOptions& options);
std::unique_ptr<Attack> make_random_attack(const AttackOptions& options);
std::unique_ptr<Attack> make_exact_attack(const AttackOptions& options);
std::unique_ptr<Attack> make_sparse_rs_attack(const AttackOptions& options);
std::unique_ptr<Attack> make_drop_attack(const AttackOptions& options);
std::unique_ptr<Attack> make_pgd_attack(const AttackOptions& options);

}  // namespace muroan
