// CPU threads: LibTorch's intra-op pool and the BLAS library's own pool.
//
// Debian's LibTorch calls OpenBLAS (libopenblas0-pthread) for matrix products
// and convolutions. That OpenBLAS keeps its own pthread pool, one thread per
// core, besides LibTorch's OpenMP threads: with two LibTorch threads each
// calling a multi-threaded BLAS, the cores are oversubscribed and a second
// thread made MUROAN slower (greedy 1.9x, training 1.7x slower than with one
// BLAS thread; docs/performance.md). LibTorch already splits work across its
// own threads, so BLAS runs single-threaded inside them by default.
#pragma once

namespace muroan {

struct CpuThreads {
  int torch = 0;  // LibTorch intra-op threads
  int blas = 0;   // OpenBLAS threads; 0 when no OpenBLAS is loaded in the process
};

// The CPUs this process may run on (its affinity mask; at least 1).
int available_cpu_cores();

// Sets LibTorch's intra-op threads to `threads` (0: one per available core;
// LibTorch's own default was a single thread on the 2-core development machine,
// where OpenMP reported 1) and
// OpenBLAS's pool to `blas_threads` (0: keep OpenBLAS's choice). OpenBLAS is
// looked up at run time, so another BLAS (MKL, reference BLAS) is left alone.
// Throws UsageError for negative counts. Returns what is in effect afterwards.
CpuThreads configure_cpu_threads(int threads, int blas_threads);

// What is in effect now.
CpuThreads current_cpu_threads();

// LibTorch's parallel regions started on the calling thread run on it alone
// from now on (no OpenMP team of its own); other threads keep their count.
// For the sample-parallel scheduler's search threads, whose model passes run
// on the packing thread: K searches each with a team of their own put 2K
// threads on the cores for the masks and scores they build. No-op when
// LibTorch was built without OpenMP.
void single_threaded_torch_here();

}  // namespace muroan
