// Selective scan (Mamba S6) forward and backward for Sidewinder, fp32 state and math.
//
// Layout is the Java contract's, so no transposes: u, Δ_raw, z, y, dy: [B][L][D]; B, C: [B][L][N];
// A: [D][N]; D, Δ bias: [D]; gap, resets: [B][L]; states: [B][D][N]; chunk states: [B][K][D][N].
//
// Parallel shape: one thread owns NPT = 4 (or 2: the N = 16 forward) consecutive states n of one (batch, channel)
// and walks the sequence; the LPC = N/NPT lanes of a channel are adjacent in the warp. Per-step sums over n (y, dΔ, du) use a
// "transpose-reduce" over the LPC lanes for LPC steps at once (LPC−1 shuffles for LPC outputs). Inputs are
// staged per time tile through shared memory, coalesced over channels, with Δ (bias, softplus, gap) and
// SiLU(z) computed once per (t, d) there instead of once per lane. Every exp is one ex2.approx per (t, d, n).
// The forward stages 64-step tiles with 128-bit loads (4 channels, or 4 states of B/C, per load) where D % 4 == 0
// and the rows are 16-byte aligned, and keeps (Δ, u) and each thread's (B, C) interleaved in shared memory so a
// step reads them with one or two wide loads.
//
// The forward stores the state entering every chunk (chunk_length steps); the backward (bwd2, in
// selective_scan_bwd2.cuh, in the same parallel shape) recomputes the forward of one chunk from it, keeps the state
// every 16 steps in shared memory, and walks the adjoint backwards tile by tile, recomputing each tile's states into
// registers. selective_scan_lsplit.cuh holds the L-split family (the lanes of a warp split the sequence).

#include <cstdint>

#define FULL_MASK 0xffffffffu

namespace {

constexpr int kThreads = 128;
constexpr float kLog2e = 1.4426950408889634f;
constexpr float kSoftplusThreshold = 20.f;
constexpr float kWFormMinA = 1.f / 16;   // see step_w in the forward

enum Disc { ZOH = 0, BILINEAR = 1, EULER = 2 };

__device__ __forceinline__ float fast_exp2(float x) {
    float y;
    asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
    return y;
}

__device__ __forceinline__ float sigmoidf_(float x) { return __fdividef(1.f, 1.f + __expf(-x)); }

// softplus(x) = log1p(e^x), x above the threshold passed through. Branch-free: a 4-term series below e = 1/32
// (dropped e^5/5: 3e-9 relative), lg2.approx(1 + e) above (abs. error 2^-22 against log1p ≥ 0.03: 5e-6 relative),
// instead of log1pf's long branchy path; it runs once per (t, d).
__device__ __forceinline__ float softplusf_(float x) {
    const float e = __expf(x);
    const float series = e * (1.f - e * (0.5f - e * (1.f / 3 - e * 0.25f)));
    const float r = e < 0.03125f ? series : __logf(1.f + e);
    return x > kSoftplusThreshold ? x : r;
}

// One discretised step for continuous a (< 0) and step dt: dA = exp(dt·a), f with dB = f·B.
template <int DISC>
__device__ __forceinline__ void discretize(float dt, float a, float a2, float inv_a, float& dA, float& f) {
    if constexpr (DISC == BILINEAR) {
        float hx = 0.5f * dt * a;
        float r = __fdividef(1.f, 1.f - hx);
        dA = (1.f + hx) * r;
        f = dt * r;
    } else {
        dA = fast_exp2(dt * a2);
        if constexpr (DISC == EULER) {
            f = dt;
        } else {
            // expm1(x)/a: Taylor below |x| = 1/32 (dropped term x^3/24: 1.3e-6 relative), (dA − 1)/a above, where
            // the absolute error of ex2 (~1.2e-7 near 1) costs at most ~4e-6 relative.
            float x = dt * a;
            float taylor = dt * (1.f + x * (0.5f + x * (1.f / 6)));
            f = fabsf(x) < 0.03125f ? taylor : (dA - 1.f) * inv_a;
        }
    }
}

// Partial derivatives of dA and f with respect to dt and a.
template <int DISC>
__device__ __forceinline__ void discretize_grads(float dt, float a, float dA, float f, float& dA_ddt, float& f_ddt,
                                                 float& dA_da, float& f_da) {
    if constexpr (DISC == BILINEAR) {
        float hx = 0.5f * dt * a;
        float r = __fdividef(1.f, 1.f - hx);
        dA_ddt = a * r * r;
        dA_da = dt * r * r;
        f_ddt = r + hx * r * r;
        f_da = 0.5f * dt * dt * r * r;
    } else if constexpr (DISC == EULER) {
        dA_ddt = a * dA;
        dA_da = dt * dA;
        f_ddt = 1.f;
        f_da = 0.f;
    } else {
        dA_ddt = a * dA;
        dA_da = dt * dA;
        f_ddt = dA;  // d/ddt (expm1(dt·a)/a) = exp(dt·a)
        // d/da (expm1(dt·a)/a) = dt²·g'(x), g(x) = expm1(x)/x; Taylor below |x| = 1/32 (dropped x^3/30: 2e-6
        // relative), (dt·dA − f)/a otherwise.
        float x = dt * a;
        float taylor = dt * dt * (0.5f + x * (1.f / 3 + x * (1.f / 8)));
        f_da = fabsf(x) < 0.03125f ? taylor : __fdividef(dt * dA - f, a);
    }
}

// Reduces CNT values per lane across lanes at xor offsets OFF, OFF/2, ..., MINOFF. While more than one value is
// left, each level halves the values a lane keeps (it keeps the half named by its bit and receives the partner's
// partial of it); vi is the index of the first kept value. Levels after one value is left are plain butterflies,
// so lanes that differ only in those bits end up with the same sum.
template <int CNT, int OFF, int MINOFF>
__device__ __forceinline__ void transpose_reduce(float* v, int lane, int& vi) {
    if constexpr (OFF >= MINOFF && OFF >= 1) {
        if constexpr (CNT > 1) {
            constexpr int H = CNT / 2;
            const bool upper = (lane & OFF) != 0;
#pragma unroll
            for (int i = 0; i < H; i++) {
                float send = upper ? v[i] : v[i + H];
                float keep = upper ? v[i + H] : v[i];
                v[i] = keep + __shfl_xor_sync(FULL_MASK, send, OFF);
            }
            if (upper) vi += H;
            transpose_reduce<H, OFF / 2, MINOFF>(v, lane, vi);
        } else {
            v[0] += __shfl_xor_sync(FULL_MASK, v[0], OFF);
            transpose_reduce<1, OFF / 2, MINOFF>(v, lane, vi);
        }
    }
}

template <int N, int NPT>
struct Shape {
    static constexpr int kLpc = N / NPT;               // lanes per channel
    static constexpr int kCpb = kThreads / kLpc;        // channels per block
    static_assert(N % NPT == 0 && kLpc <= 8 && (kLpc & (kLpc - 1)) == 0, "N / NPT must be 1, 2, 4 or 8");
};

// ------------------------------------------------------------------------------------------------ forward

template <int N, int DISC, int NPT>
__device__ __forceinline__ void scan_forward_impl(
        int L, int D, const float* __restrict__ u, const float* __restrict__ delta_raw,
        const float* __restrict__ delta_bias, int softplus, const float* __restrict__ gap,
        const float* __restrict__ A, const float* __restrict__ Bm, const float* __restrict__ Cm,
        const float* __restrict__ Dskip, const float* __restrict__ z, const uint8_t* __restrict__ resets,
        int chunk_length, float* __restrict__ h, float* __restrict__ y, float* __restrict__ chunk_states) {
    using S = Shape<N, NPT>;
    // 64-step tiles for N = 16 (measured 1.08× over 32 at the issue's shape); N = 8 and 32 keep 32, within the
    // static shared-memory and register budgets.
    constexpr int T = N == 16 ? 64 : 32;
    constexpr int LPC = S::kLpc, CPB = S::kCpb;
    constexpr int ITEMS = T * CPB / kThreads;     // (t, d) entries each thread stages per tile
    constexpr int BC_ITEMS = T * N / kThreads;    // (t, n) entries of B and of C
    constexpr int T_STRIDE = kThreads / CPB;      // tile rows between a thread's staged entries
    __shared__ __align__(16) float2 s_du[T][CPB];   // (Δ, u) of (t, channel): one 64-bit load per step
    __shared__ __align__(16) float s_gate[T][CPB];
    __shared__ float s_y[T][CPB + 1];
    // B and C of step t, interleaved per state group: group g holds B[g·NPT … +NPT) then C[g·NPT … +NPT), so a
    // thread loads its states' B and C with one (NPT = 2) or two (NPT = 4) 128-bit loads.
    __shared__ __align__(16) float s_bc[T][2 * N];
    static_assert(NPT == 2 || NPT == 4, "the interleaved (B, C) layout is read as float4s: 2 or 4 states per thread");
    __shared__ float s_keep[T];                   // 0 where a reset drops the state before the step, else 1

    const int tid = threadIdx.x, lane = tid & 31;
    const int cl = tid / LPC, q = tid % LPC;
    const int d0 = blockIdx.x * CPB, d = d0 + cl, b = blockIdx.y;
    const bool active = d < D;
    const int n0 = q * NPT;
    const size_t row = (size_t)b * L;  // first (b, t=0) row index
    const int stage_d = tid % CPB, stage_t = tid / CPB;   // this thread's staged column and first row
    const bool stage_active = d0 + stage_d < D;
    const float stage_bias = (delta_bias != nullptr && stage_active) ? delta_bias[d0 + stage_d] : 0.f;
    // Vector staging: each thread moves 4 adjacent channels per row as one float4 (and B, C as float4s), a quarter
    // of the scalar path's loads and address arithmetic. Needs D % 4 == 0 and 16-byte aligned rows.
    constexpr int VCOLS = CPB / 4, VROWS = kThreads / VCOLS, VPASS = T / VROWS;
    static_assert(VPASS * 4 == ITEMS, "the vector staging covers the scalar staging's items");
    constexpr int BC4 = T * N / (4 * kThreads);
    const bool vec = D % 4 == 0 && ((reinterpret_cast<uintptr_t>(u) | reinterpret_cast<uintptr_t>(delta_raw) |
                                     reinterpret_cast<uintptr_t>(z != nullptr ? z : u) |
                                     reinterpret_cast<uintptr_t>(y)) & 15) == 0;
    const bool bc_vec = BC4 >= 1 && BC4 * 4 * kThreads == T * N &&
                        ((reinterpret_cast<uintptr_t>(Bm) | reinterpret_cast<uintptr_t>(Cm)) & 15) == 0;
    const int v_c = (tid % VCOLS) * 4, v_r = tid / VCOLS;   // vector staging: first channel and first row
    const bool v_active = d0 + v_c < D;
    float v_bias[4];
#pragma unroll
    for (int j = 0; j < 4; j++) v_bias[j] = (delta_bias != nullptr && v_active) ? delta_bias[d0 + v_c + j] : 0.f;

    float a[NPT], a2[NPT], inv_a[NPT], hs[NPT];
#pragma unroll
    for (int i = 0; i < NPT; i++) {
        a[i] = active ? A[(size_t)d * N + n0 + i] : -1.f;
        a2[i] = a[i] * kLog2e;
        inv_a[i] = 1.f / a[i];
        hs[i] = active ? h[((size_t)b * D + d) * N + n0 + i] : 0.f;
    }
    const float dskip = (Dskip != nullptr && active) ? Dskip[d] : 0.f;
    const int n_chunks = (L + chunk_length - 1) / chunk_length;
    int chunk_index = 0;
    int next_boundary = 0;

    const size_t bld0 = row * D, bln0 = row * N;
    const float *u_b = u + bld0, *raw_b = delta_raw + bld0, *z_b = z != nullptr ? z + bld0 : nullptr;
    const float *B_b = Bm + bln0, *C_b = Cm + bln0;
    float* y_b = y + bld0;
    // Raw inputs of one tile, loaded into registers a tile ahead so global latency hides behind the scan.
    float r_u[ITEMS], r_raw[ITEMS], r_z[ITEMS], r_B[BC_ITEMS], r_C[BC_ITEMS], r_gap = 1.f, r_keep = 1.f;
    auto load_tile = [&](int t0) {
        const int steps = min(T, L - t0);
        if (vec) {
            const float4 zero4 = make_float4(0.f, 0.f, 0.f, 0.f);
#pragma unroll
            for (int p = 0; p < VPASS; p++) {
                const int tt = v_r + p * VROWS;
                const bool in = tt < steps && v_active;
                const int idx = (t0 + tt) * D + d0 + v_c;
                const float4 vu = in ? *reinterpret_cast<const float4*>(u_b + idx) : zero4;
                const float4 vr = in ? *reinterpret_cast<const float4*>(raw_b + idx) : zero4;
                const float4 vz = (in && z != nullptr) ? *reinterpret_cast<const float4*>(z_b + idx) : zero4;
                r_u[4 * p] = vu.x; r_u[4 * p + 1] = vu.y; r_u[4 * p + 2] = vu.z; r_u[4 * p + 3] = vu.w;
                r_raw[4 * p] = vr.x; r_raw[4 * p + 1] = vr.y; r_raw[4 * p + 2] = vr.z; r_raw[4 * p + 3] = vr.w;
                r_z[4 * p] = vz.x; r_z[4 * p + 1] = vz.y; r_z[4 * p + 2] = vz.z; r_z[4 * p + 3] = vz.w;
            }
        } else {
#pragma unroll
        for (int k = 0; k < ITEMS; k++) {
            const int tt = stage_t + k * T_STRIDE;
            const bool in = tt < steps && stage_active;
            const int idx = (t0 + tt) * D + d0 + stage_d;   // 32-bit offsets inside batch b's rows
            r_u[k] = in ? u_b[idx] : 0.f;
            r_raw[k] = in ? raw_b[idx] : 0.f;
            r_z[k] = (in && z != nullptr) ? z_b[idx] : 0.f;
        }
        }
        if (bc_vec) {
            const float4 zero4 = make_float4(0.f, 0.f, 0.f, 0.f);
#pragma unroll
            for (int j = 0; j < BC4; j++) {
                const int f = 4 * (tid + j * kThreads);   // float offset inside the tile's T·N block
                const bool in = f / N < steps;
                const float4 vb = in ? *reinterpret_cast<const float4*>(B_b + t0 * N + f) : zero4;
                const float4 vc = in ? *reinterpret_cast<const float4*>(C_b + t0 * N + f) : zero4;
                r_B[4 * j] = vb.x; r_B[4 * j + 1] = vb.y; r_B[4 * j + 2] = vb.z; r_B[4 * j + 3] = vb.w;
                r_C[4 * j] = vc.x; r_C[4 * j + 1] = vc.y; r_C[4 * j + 2] = vc.z; r_C[4 * j + 3] = vc.w;
            }
        } else {
#pragma unroll
        for (int k = 0; k < BC_ITEMS; k++) {
            const int i = tid + k * kThreads, tt = i / N, nn = i % N;
            const bool in = tt < steps;
            r_B[k] = in ? B_b[(t0 + tt) * N + nn] : 0.f;
            r_C[k] = in ? C_b[(t0 + tt) * N + nn] : 0.f;
        }
        }
        if (tid < T) {
            const bool in = tid < steps;
            r_gap = (in && gap != nullptr) ? gap[row + t0 + tid] : 1.f;
            r_keep = (in && resets != nullptr && resets[row + t0 + tid]) ? 0.f : 1.f;
        }
    };
    // Registers → shared memory, with Δ (bias, softplus, gap) and SiLU(z) computed once per (t, d).
    auto commit_tile = [&]() -> bool {
        if (tid < T) s_keep[tid] = r_keep;
        float gap_col[ITEMS];
        __syncwarp();
        if (bc_vec) {
#pragma unroll
            for (int j = 0; j < BC4; j++) {
                const int f = 4 * (tid + j * kThreads);
                const int tt = f / N, nn = f % N;   // 4 states nn … nn+3 of step tt
                float* row_bc = &s_bc[tt][0];
                if constexpr (NPT == 4) {
                    *reinterpret_cast<float4*>(row_bc + 2 * nn) = make_float4(r_B[4 * j], r_B[4 * j + 1], r_B[4 * j + 2], r_B[4 * j + 3]);
                    *reinterpret_cast<float4*>(row_bc + 2 * nn + 4) = make_float4(r_C[4 * j], r_C[4 * j + 1], r_C[4 * j + 2], r_C[4 * j + 3]);
                } else {
                    *reinterpret_cast<float4*>(row_bc + 2 * nn) = make_float4(r_B[4 * j], r_B[4 * j + 1], r_C[4 * j], r_C[4 * j + 1]);
                    *reinterpret_cast<float4*>(row_bc + 2 * nn + 4) = make_float4(r_B[4 * j + 2], r_B[4 * j + 3], r_C[4 * j + 2], r_C[4 * j + 3]);
                }
            }
        } else {
#pragma unroll
        for (int k = 0; k < BC_ITEMS; k++) {
            const int i = tid + k * kThreads;
            const int m = i % N;
            s_bc[i / N][(m / NPT) * 2 * NPT + m % NPT] = r_B[k];
            s_bc[i / N][(m / NPT) * 2 * NPT + NPT + m % NPT] = r_C[k];
        }
        }
        // gap is per step: read it from the staging lanes through shared memory after a barrier.
        __shared__ float s_gap[T];
        if (tid < T) s_gap[tid] = r_gap;
        const bool any_reset = __syncthreads_or(tid < T && r_keep == 0.f) != 0;
        if (vec) {
            // All of the thread's items in one branch-free block (the flags tested once), so that the exps and
            // logs of different items overlap instead of each pass waiting on its own.
            float dts[ITEMS], gates[ITEMS];
            if (softplus) {
#pragma unroll
                for (int k = 0; k < ITEMS; k++) dts[k] = softplusf_(r_raw[k] + v_bias[k % 4]);
            } else {
#pragma unroll
                for (int k = 0; k < ITEMS; k++) dts[k] = r_raw[k] + v_bias[k % 4];
            }
            if (z != nullptr) {
#pragma unroll
                for (int k = 0; k < ITEMS; k++) gates[k] = r_z[k] * sigmoidf_(r_z[k]);
            } else {
#pragma unroll
                for (int k = 0; k < ITEMS; k++) gates[k] = 1.f;
            }
#pragma unroll
            for (int p = 0; p < VPASS; p++) {
                const int tt = v_r + p * VROWS;
                const float g = s_gap[tt];
                float4* du4 = reinterpret_cast<float4*>(&s_du[tt][v_c]);
                du4[0] = make_float4(dts[4 * p] * g, r_u[4 * p], dts[4 * p + 1] * g, r_u[4 * p + 1]);
                du4[1] = make_float4(dts[4 * p + 2] * g, r_u[4 * p + 2], dts[4 * p + 3] * g, r_u[4 * p + 3]);
                *reinterpret_cast<float4*>(&s_gate[tt][v_c]) = make_float4(gates[4 * p], gates[4 * p + 1], gates[4 * p + 2], gates[4 * p + 3]);
            }
            return any_reset;
        }
#pragma unroll
        for (int k = 0; k < ITEMS; k++) gap_col[k] = s_gap[stage_t + k * T_STRIDE];
#pragma unroll
        for (int k = 0; k < ITEMS; k++) {
            const int tt = stage_t + k * T_STRIDE;
            float dt = r_raw[k] + stage_bias;
            if (softplus) dt = softplusf_(dt);
            s_du[tt][stage_d] = make_float2(dt * gap_col[k], r_u[k]);
            s_gate[tt][stage_d] = z != nullptr ? r_z[k] * sigmoidf_(r_z[k]) : 1.f;
        }
        return any_reset;
    };

    auto load_bc = [&](int s, float* bv, float* cv) {
        if constexpr (NPT % 4 == 0) {
#pragma unroll
            for (int j = 0; j < NPT / 4; j++) {
                const float4 b4 = reinterpret_cast<const float4*>(&s_bc[s][2 * n0])[2 * j];
                const float4 c4 = reinterpret_cast<const float4*>(&s_bc[s][2 * n0])[2 * j + 1];
                bv[4 * j] = b4.x; bv[4 * j + 1] = b4.y; bv[4 * j + 2] = b4.z; bv[4 * j + 3] = b4.w;
                cv[4 * j] = c4.x; cv[4 * j + 1] = c4.y; cv[4 * j + 2] = c4.z; cv[4 * j + 3] = c4.w;
            }
        } else {
            const float4 bc = *reinterpret_cast<const float4*>(&s_bc[s][2 * n0]);
            bv[0] = bc.x; bv[1] = bc.y; cv[0] = bc.z; cv[1] = bc.w;
        }
    };
    // One step of this thread's NPT states; returns its share of Σ_n C·h.
    // KEEP: the tile has a reset, so multiply by keep; otherwise skip it.
    auto step = [&](int s, bool with_keep) -> float {
        const float2 du = s_du[s][cl];
        const float dt = du.x, uv = du.y;
        const float keep = with_keep ? s_keep[s] : 1.f;
        const float dtu = dt * uv;
        float acc = 0.f;
        float bv[NPT], cv[NPT];
        load_bc(s, bv, cv);
#pragma unroll
        for (int i = 0; i < NPT; i++) {
            float dA, f;
            discretize<DISC>(dt, a[i], a2[i], inv_a[i], dA, f);
            if (with_keep) dA *= keep;
            const float inc = DISC == EULER ? bv[i] * dtu : f * (bv[i] * uv);
            hs[i] = dA * hs[i] + inc;
            acc += cv[i] * hs[i];
        }
        return acc;
    };
    // ZOH without f: f·B·u = (dA − 1)·w with w = B·u/a, so h ← dA·(h + w) − w (7 instructions per element
    // instead of ~16). Its extra error is ex2's absolute error (~1.2e-7) times |w| per step, random in sign with
    // B·u; only warps whose every |a| ≥ kWFormMinA take it (|w| ≤ 16·|B·u|), the others keep discretize's f.
    auto step_w = [&](int s) -> float {
        const float2 du = s_du[s][cl];
        const float dt = du.x, uv = du.y;
        float acc = 0.f;
        float bv[NPT], cv[NPT];
        load_bc(s, bv, cv);
#pragma unroll
        for (int i = 0; i < NPT; i++) {
            const float dA = fast_exp2(dt * a2[i]);
            const float w = bv[i] * (uv * inv_a[i]);
            hs[i] = fmaf(dA, hs[i] + w, -w);
            acc = fmaf(cv[i], hs[i], acc);
        }
        return acc;
    };
    bool w_form = false;
    if constexpr (DISC == ZOH) {
        float min_abs = fabsf(a[0]);
#pragma unroll
        for (int i = 1; i < NPT; i++) min_abs = fminf(min_abs, fabsf(a[i]));
        w_form = __all_sync(FULL_MASK, min_abs >= kWFormMinA);
    }
    // A whole tile without reset, tail or chunk start inside: all T / LPC groups unrolled, one barrier.
    auto fast_tile = [&](auto step_fn) {
#pragma unroll
        for (int s0 = 0; s0 < T; s0 += LPC) {
            float yv[LPC];
#pragma unroll
            for (int j = 0; j < LPC; j++) yv[j] = step_fn(s0 + j);
            int vi = 0;
            transpose_reduce<LPC, LPC / 2, 1>(yv, lane, vi);  // lane q now holds step s0 + q's Σ_n C·h
            const int s = s0 + vi;
            s_y[s][cl] = (yv[0] + dskip * s_du[s][cl].y) * s_gate[s][cl];
        }
    };
    auto store_chunk_state = [&]() {
        if (chunk_states != nullptr && active) {
            float* dst = &chunk_states[(((size_t)b * n_chunks + chunk_index) * D + d) * N + n0];
#pragma unroll
            for (int i = 0; i < NPT; i++) dst[i] = hs[i];
        }
        next_boundary += chunk_length;
        chunk_index++;
    };

    if (L > 0) load_tile(0);
    for (int t0 = 0; t0 < L; t0 += T) {
        const int steps = min(T, L - t0);
        const bool tile_reset = commit_tile();
        __syncthreads();
        if (t0 + T < L) load_tile(t0 + T);

        if (t0 == next_boundary) store_chunk_state();   // state entering a chunk that starts with the tile
        if (!tile_reset && steps == T && next_boundary >= t0 + T) {
            if constexpr (DISC == ZOH) {
                if (w_form) fast_tile(step_w);
                else fast_tile([&](int s) { return step(s, false); });
            } else {
                fast_tile([&](int s) { return step(s, false); });
            }
        } else {
#pragma unroll 1
        for (int s0 = 0; s0 < T; s0 += LPC) {
            if (s0 >= steps) break;
            float yv[LPC];
            const bool boundary = next_boundary < t0 + s0 + LPC;   // a chunk starts inside this group
            if (!boundary && !tile_reset && s0 + LPC <= steps) {
                // Fast path: no chunk start, no reset, no tail; branch-free so the exps of the group overlap.
#pragma unroll
                for (int j = 0; j < LPC; j++) yv[j] = step(s0 + j, false);
            } else {
#pragma unroll
                for (int j = 0; j < LPC; j++) {
                    yv[j] = 0.f;
                    if (s0 + j < steps) {
                        if (t0 + s0 + j == next_boundary) store_chunk_state();  // state entering the chunk
                        yv[j] = step(s0 + j, true);
                    }
                }
            }
            int vi = 0;
            transpose_reduce<LPC, LPC / 2, 1>(yv, lane, vi);  // lane q now holds step s0 + q's Σ_n C·h
            const int s = s0 + vi;
            if (s < steps) s_y[s][cl] = (yv[0] + dskip * s_du[s][cl].y) * s_gate[s][cl];
        }
        }
        __syncthreads();
        if (vec) {
#pragma unroll
            for (int p = 0; p < VPASS; p++) {
                const int tt = v_r + p * VROWS;
                if (tt < steps && v_active)
                    *reinterpret_cast<float4*>(y_b + (t0 + tt) * D + d0 + v_c) =
                            make_float4(s_y[tt][v_c], s_y[tt][v_c + 1], s_y[tt][v_c + 2], s_y[tt][v_c + 3]);
            }
        } else {
#pragma unroll
        for (int k = 0; k < ITEMS; k++) {
            const int tt = stage_t + k * T_STRIDE;
            if (tt < steps && stage_active) y_b[(t0 + tt) * D + d0 + stage_d] = s_y[tt][stage_d];
        }
        }
    }
    if (active && L > 0) {
#pragma unroll
        for (int i = 0; i < NPT; i++) h[((size_t)b * D + d) * N + n0 + i] = hs[i];
    }
}

// ------------------------------------------------------------------------------------------------ backward

// The backward kernels: selective_scan_bwd2.cuh (sequential, the default) and selective_scan_lsplit.cuh.

#include "selective_scan_lsplit.cuh"
#include "selective_scan_bwd2.cuh"

}  // namespace

// ------------------------------------------------------------------------------------------------ entry points

// The forward kernels' common parameters (the sequential and L-split families take the same), and the backward's.
#define SCAN_FWD_PARAMS                                                                                         \
    int L, int D, const float* u, const float* delta_raw, const float* delta_bias, int softplus, const float* gap, \
            const float* A, const float* Bm, const float* Cm, const float* Dskip, const float* z,               \
            const uint8_t* resets, int chunk_length, float* h, float* y, float* chunk_states
#define SCAN_FWD_ARGS L, D, u, delta_raw, delta_bias, softplus, gap, A, Bm, Cm, Dskip, z, resets, chunk_length, h, y, chunk_states
#define SCAN_BWD_PARAMS                                                                                         \
    int L, int D, const float* u, const float* delta_raw, const float* delta_bias, int softplus, const float* gap, \
            const float* A, const float* Bm, const float* Cm, const float* Dskip, const float* z,               \
            const uint8_t* resets, int chunk_length, const float* chunk_states, const float* dout, float* du,    \
            float* ddelta_raw, float* dz, float* dB, float* dC, float* dA, float* dD, float* dbias, float* dh0,  \
            int deterministic
#define SCAN_BWD_ARGS                                                                                           \
    L, D, u, delta_raw, delta_bias, softplus, gap, A, Bm, Cm, Dskip, z, resets, chunk_length, chunk_states, dout, du, \
            ddelta_raw, dz, dB, dC, dA, dD, dbias, dh0, deterministic

#define SCAN_FWD_(N, DISC, NPT, MINB, NAME)                                                                     \
    extern "C" __global__ void __launch_bounds__(kThreads, MINB) NAME(SCAN_FWD_PARAMS) {                         \
        scan_forward_impl<N, DISC, NPT>(SCAN_FWD_ARGS);                                                         \
    }
// 2 states per thread: capped at 128 registers so that 4 blocks (16 warps) fit an SM — the grid has twice the warps
// of 4 per thread, and they hide the exp and shared-load latencies that bound this kernel.
#define FWD_MINB(NPT) ((NPT) == 2 ? 4 : 1)
#define SCAN_FWD(N, DISC, NPT, NAME) SCAN_FWD_(N, DISC, NPT, FWD_MINB(NPT), NAME)

// Kernel names: sw_scan_fwd_{zoh,bilinear,euler}_n{N}_p{states per thread}.
#define SCAN_FWD_ALL(N, NPT)                                       \
    SCAN_FWD(N, ZOH, NPT, sw_scan_fwd_zoh_n##N##_p##NPT)           \
    SCAN_FWD(N, BILINEAR, NPT, sw_scan_fwd_bilinear_n##N##_p##NPT) \
    SCAN_FWD(N, EULER, NPT, sw_scan_fwd_euler_n##N##_p##NPT)

SCAN_FWD_ALL(8, 4)
SCAN_FWD_ALL(16, 4)
SCAN_FWD_ALL(32, 4)
SCAN_FWD_ALL(16, 2)

// The rewritten backward (selective_scan_bwd2.cuh), 4 states per thread; kernel names sw_scan_bwd2_{disc}_n{N}, and
// sw_scan_bwd2_{disc}_n16_p2 with 2 states per thread (twice the warps, 128 registers for 4 blocks per SM).
// Same parameters as the L-split backward, so DeviceScan launches both the same way.
#ifndef BWD2_BLOCKS
#define BWD2_BLOCKS 3
#endif
#ifndef BWD2_P2_BLOCKS
#define BWD2_P2_BLOCKS 4
#endif
#define SCAN_BWD2_(N, DISC, NPT, MINB, NAME)                                                                    \
    extern "C" __global__ void __launch_bounds__(kThreads, MINB) NAME(SCAN_BWD_PARAMS) {                         \
        scan_backward_v2<N, DISC, NPT>(SCAN_BWD_ARGS);                                                          \
    }
#define SCAN_BWD2(N, DISC, NAME) SCAN_BWD2_(N, DISC, 4, BWD2_BLOCKS, NAME)
#define SCAN_BWD2_ALL(N)                                  \
    SCAN_BWD2(N, ZOH, sw_scan_bwd2_zoh_n##N)              \
    SCAN_BWD2(N, BILINEAR, sw_scan_bwd2_bilinear_n##N)    \
    SCAN_BWD2(N, EULER, sw_scan_bwd2_euler_n##N)
SCAN_BWD2_ALL(8)
SCAN_BWD2_ALL(16)
SCAN_BWD2_ALL(32)
SCAN_BWD2_(16, ZOH, 2, BWD2_P2_BLOCKS, sw_scan_bwd2_zoh_n16_p2)
SCAN_BWD2_(16, BILINEAR, 2, BWD2_P2_BLOCKS, sw_scan_bwd2_bilinear_n16_p2)
SCAN_BWD2_(16, EULER, 2, BWD2_P2_BLOCKS, sw_scan_bwd2_euler_n16_p2)

#ifndef LS_FWD_BLOCKS
#define LS_FWD_BLOCKS 3
#endif
#ifndef LS_BWD_BLOCKS
#define LS_BWD_BLOCKS 2
#endif
#define LS_FWD(N, DISC, NAME)                                                                                   \
    extern "C" __global__ void __launch_bounds__(ls::THREADS, LS_FWD_BLOCKS) NAME(SCAN_FWD_PARAMS) {             \
        ls_forward_impl<N, DISC>(SCAN_FWD_ARGS);                                                                \
    }
#define LS_BWD(N, DISC, NAME)                                                                                   \
    extern "C" __global__ void __launch_bounds__(ls::THREADS, LS_BWD_BLOCKS) NAME(SCAN_BWD_PARAMS) {             \
        ls_backward_impl<N, DISC>(SCAN_BWD_ARGS);                                                               \
    }

// Kernel names: sw_scan_ls_{fwd,bwd}_{zoh,bilinear,euler}_n{N}.
#define LS_ALL(N)                                         \
    LS_FWD(N, ZOH, sw_scan_ls_fwd_zoh_n##N)               \
    LS_FWD(N, BILINEAR, sw_scan_ls_fwd_bilinear_n##N)     \
    LS_FWD(N, EULER, sw_scan_ls_fwd_euler_n##N)           \
    LS_BWD(N, ZOH, sw_scan_ls_bwd_zoh_n##N)               \
    LS_BWD(N, BILINEAR, sw_scan_ls_bwd_bilinear_n##N)     \
    LS_BWD(N, EULER, sw_scan_ls_bwd_euler_n##N)


LS_ALL(8)
LS_ALL(16)
LS_ALL(32)

// Deterministic reduction: out[i] += Σ_p part[p][i] in a fixed order (p outer), for `parts` slices of `count`.
extern "C" __global__ void sw_reduce_parts(const float* __restrict__ part, int parts, long long count,
                                           float* __restrict__ out) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < count;
         i += (long long)gridDim.x * blockDim.x) {
        float s = 0.f;
        for (int p = 0; p < parts; p++) s += part[p * count + i];
        out[i] = s;
    }
}

// Deterministic dB/dC: out[b][t][n] = Σ_blk part[b][blk][t][n] (blk in order).
extern "C" __global__ void sw_reduce_blocks(const float* __restrict__ part, int batch, int blocks, long long per_batch,
                                            float* __restrict__ out) {
    long long total = batch * per_batch;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < total;
         i += (long long)gridDim.x * blockDim.x) {
        long long b = i / per_batch, r = i % per_batch;
        const float* p = part + b * blocks * per_batch + r;
        float s = 0.f;
        for (int k = 0; k < blocks; k++) s += p[k * per_batch];
        out[i] = s;
    }
}
