#include "muroan/cpu_memory.h"

#include <climits>

#ifdef __GLIBC__
#include <malloc.h>
#endif

namespace muroan {

bool keep_freed_memory_for_reuse() {
#ifdef __GLIBC__
  // M_MMAP_MAX 0: every block from the heap (a thread's arena that cannot
  // grow falls back to the main one); M_TRIM_THRESHOLD: hand the top of the
  // heap back only beyond 2 GiB free.
  return mallopt(M_MMAP_MAX, 0) == 1 && mallopt(M_TRIM_THRESHOLD, INT_MAX) == 1;
#else
  return false;
#endif
}

}  // namespace muroan
