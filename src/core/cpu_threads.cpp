#include "muroan/cpu_threads.h"

#include <ATen/Parallel.h>
#include <dlfcn.h>
#include <sched.h>

#include <thread>

#include <algorithm>
#include <string>

#include "muroan/error.h"

namespace muroan {
namespace {

using SetThreads = void (*)(int);
using GetThreads = int (*)();

// OpenBLAS's own entry points, when the process has OpenBLAS loaded (through
// LibTorch's libblas.so.3); nullptr otherwise.
template <typename Fn>
Fn openblas_symbol(const char* name) {
  return reinterpret_cast<Fn>(dlsym(RTLD_DEFAULT, name));
}

}  // namespace

int available_cpu_cores() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}

CpuThreads current_cpu_threads() {
  CpuThreads now;
  now.torch = at::get_num_threads();
  if (auto get = openblas_symbol<GetThreads>("openblas_get_num_threads")) now.blas = get();
  return now;
}

CpuThreads configure_cpu_threads(int threads, int blas_threads) {
  if (threads < 0) throw UsageError("threads: expected 0 or more, got " + std::to_string(threads));
  if (blas_threads < 0) throw UsageError("blas threads: expected 0 or more, got " + std::to_string(blas_threads));
  at::set_num_threads(threads > 0 ? threads : available_cpu_cores());
  if (blas_threads > 0) {
    if (auto set = openblas_symbol<SetThreads>("openblas_set_num_threads")) set(blas_threads);
  }
  return current_cpu_threads();
}

}  // namespace muroan
