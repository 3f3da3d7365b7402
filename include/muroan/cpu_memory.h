// CPU memory: large tensors from the heap instead of fresh pages.
//
// glibc's malloc serves a block above 32 MiB (and, until it has freed one,
// above 128 KiB) by mmap and returns it to the system when it is freed, so
// every forward pass over a large batch maps fresh pages and the kernel
// zeroes each one at its first touch: a ReLU over [256,16,56,56] floats took
// 17.6 ms instead of 4.0 ms, and the built-in models' rows/s fell by two
// thirds above batch 64 (docs/performance.md). Keeping freed memory in the
// heap for the next pass removes that; the process then holds on to its
// peak heap until it exits.
#pragma once

namespace muroan {

// Tells the C library to keep freed memory for reuse (glibc: no mmap for
// large blocks, no trimming of the heap). Returns false where the C library
// has no such setting (not glibc), true when set. Call it once at start-up,
// before the first large allocation.
bool keep_freed_memory_for_reuse();

}  // namespace muroan
