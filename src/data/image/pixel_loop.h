// Hot pixel loops built for AVX2 as well as for the baseline instruction set.
//
// SLIPSTREAM_PIXEL_LOOP marks a plain loop that the compiler builds twice, the dynamic loader
// picking one at start-up (GCC and Clang function multiversioning through an ifunc). Loops written
// with AVX2 intrinsics sit under SLIPSTREAM_X86_DISPATCH and run when avx2_pixel_loops() says so.
// Either way only the vector width changes: FMA stays off, so every float expression rounds as in
// the baseline build, and integer arithmetic cannot differ.
#pragma once

#if defined(__x86_64__) && defined(__ELF__) && defined(__GNUC__)
#define SLIPSTREAM_X86_DISPATCH 1
#define SLIPSTREAM_PIXEL_LOOP __attribute__((target_clones("avx2", "default")))
#include <immintrin.h>
#else
#define SLIPSTREAM_X86_DISPATCH 0
#define SLIPSTREAM_PIXEL_LOOP
#endif

namespace slipstream {

// True when the CPU has AVX2 and the environment does not set SLIPSTREAM_BASELINE_PIXEL_LOOPS
// (which the tests use to check the baseline loops on an AVX2 machine too). Read once.
bool avx2_pixel_loops();

}  // namespace slipstream
