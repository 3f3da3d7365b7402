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

// An entry point of a library the process has loaded (OpenBLAS through
// LibTorch's libblas.so.3, OpenMP through LibTorch); nullptr when it has not.
template <typename Fn>
Fn loaded_symbol(const char* name) {
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
  if (auto get = loaded_symbol<GetThreads>("openblas_get_num_threads")) now.blas = get();
  return now;
}

void single_threaded_torch_here() {
  // First LibTorch's own per-thread set-up (it would set the process-wide
  // count on this thread at its first parallel region), then OpenMP's count
  // for this thread only: at::set_num_threads would change it for every new
  // thread too.
  at::get_num_threads();
  if (auto set = loaded_symbol<SetThreads>("omp_set_num_threads")) set(1);
}

CpuThreads configure_cpu_threads(int threads, int blas_threads) {
  if (threads < 0) throw UsageError("threads: expected 0 or more, got " + std::to_string(threads));
  if (blas_threads < 0) throw UsageError("blas threads: expected 0 or more, got " + std::to_string(blas_threads));
  at::set_num_threads(threads > 0 ? threads : available_cpu_cores());
  if (blas_threads > 0) {
    if (auto set = loaded_symbol<SetThreads>("openblas_set_num_threads")) set(blas_threads);
  }
  return current_cpu_threads();
}

}  // namespace muroan
