// L-split selective scan (included by selective_scan.cu; shares its helpers).
//
// Parallel shape: one warp per (batch, channel); its 32 lanes split each tile of TL = 32·K steps, K consecutive
// steps per lane, and the warp walks the tiles in order with a running state per n. Per state n and tile each lane
// composes its K steps into one affine map h ↦ P·h + H, the warp combines the lanes' maps with a 5-level
// Kogge-Stone scan of the associative operator (P, H) ∘ (P', H') = (P·P', P·H' + H), the exclusive prefix applied
// to the running state gives each lane its entry state, and a second pass over the K steps (dA and f·B·u kept in
// registers, so one exp per element) produces h and y. A block holds W = 8 warps = 8 adjacent channels, so the
// staging loads of u, Δ, z (rows of 8 floats = one 32-byte sector) are whole sectors and B, C are staged once per
// 8 channels. Shared layouts put lane l's step j at j·33 + l: conflict-free for the scan's reads.
//
// The backward walks the chunks in reverse; inside a chunk it first recomputes the tile-entry states (forward,
// from the stored chunk state) when the chunk spans more than one tile, then per tile in reverse and per n:
// recompute the lane's K states (as the forward), scan the adjoint G_t = dA_t·(C_t·dy'_t + G_{t+1}) backwards with
// the same operator (a suffix scan over the lanes), and form every gradient. dB and dC are summed over the block's
// 8 channels through shared memory (one partial row per warp per n), accumulated for the whole tile in the freed
// B/C staging rows, and leave with one vector atomic (or a plain store of the block's partial) per 4 values.

#ifndef LS_FWD_UNROLL
#define LS_FWD_UNROLL 2
#endif

namespace ls {
constexpr int K = 8;                 // steps per lane
constexpr int TL = 32 * K;           // steps per tile
constexpr int W = 8;                 // warps (= channels) per block
constexpr int THREADS = 32 * W;
constexpr int ROW = 33;              // one j-row of 32 lanes + 1 pad
constexpr int SW = K * ROW + 4;      // per-channel stride (bank-spread for the staging writes)
constexpr int SN = K * ROW + 2;      // per-state stride
constexpr int FWD_UNROLL = LS_FWD_UNROLL;
constexpr int MAXT = 4;              // tiles per chunk in the backward (chunk ≤ 1024)

__device__ __forceinline__ int iw(int w, int t) { return w * SW + (t % K) * ROW + t / K; }
__device__ __forceinline__ int in_(int n, int t) { return n * SN + (t % K) * ROW + t / K; }

template <bool B>
struct Bool { static constexpr bool value = B; };

// Inclusive scan over lanes (lane l after l−1): (P, H) ← (P·P_prev, P·H_prev + H).
__device__ __forceinline__ void scan_up(float& P, float& H, int lane) {
#pragma unroll
    for (int off = 1; off < 32; off *= 2) {
        const float pp = __shfl_up_sync(FULL_MASK, P, off), hp = __shfl_up_sync(FULL_MASK, H, off);
        if (lane >= off) {
            H = fmaf(P, hp, H);
            P *= pp;
        }
    }
}

// Suffix scan (lane l before l+1, the map applied to what comes from the right): (P, H) ← (P·P_next, P·H_next + H).
__device__ __forceinline__ void scan_down(float& P, float& H, int lane) {
#pragma unroll
    for (int off = 1; off < 32; off *= 2) {
        const float pn = __shfl_down_sync(FULL_MASK, P, off), hn = __shfl_down_sync(FULL_MASK, H, off);
        if (lane + off < 32) {
            H = fmaf(P, hn, H);
            P *= pn;
        }
    }
}

// Stages tile [t0, t0 + steps) of u, Δ (bias, softplus, gap) and B (and C when WITH_C) into the shared layouts;
// zeros outside (Δ = 0, B = 0: the identity step). Returns the barrier's OR of "a reset inside the tile".
template <int N, bool WITH_C>
__device__ __forceinline__ int stage_common(int t0, int steps, int L, int D, size_t row, int d0, int tid,
                                            float stage_bias, const float* __restrict__ u,
                                            const float* __restrict__ delta_raw, int softplus,
                                            const float* __restrict__ gap, const float* __restrict__ Bm,
                                            const float* __restrict__ Cm, const uint8_t* __restrict__ resets,
                                            float* s_u, float* s_dt, float* s_B, float* s_C, float* s_keep) {
    const int w = tid % W;
    const bool col = d0 + w < D;
#pragma unroll
    for (int k = 0; k < TL * W / THREADS; k++) {
        const int tt = (k * THREADS + tid) / W;
        const bool in = col && tt < steps;
        const size_t idx = (row + t0 + tt) * D + d0 + w;
        const float uu = in ? u[idx] : 0.f, raw = in ? delta_raw[idx] + stage_bias : 0.f;
        const float g = (in && gap != nullptr) ? gap[row + t0 + tt] : 1.f;
        s_u[iw(w, tt)] = uu;
        s_dt[iw(w, tt)] = in ? (softplus ? softplusf_(raw) : raw) * g : 0.f;
    }
    const float4* B4 = reinterpret_cast<const float4*>(Bm + (row + t0) * N);
    const float4* C4 = reinterpret_cast<const float4*>(Cm + (row + t0) * N);
    const int valid4 = steps * N / 4;
#pragma unroll
    for (int k = 0; k < TL * N / 4 / THREADS; k++) {
        const int i4 = k * THREADS + tid;
        const bool in = i4 < valid4;
        const float4 bv = in ? B4[i4] : make_float4(0.f, 0.f, 0.f, 0.f);
        const float4 cv = (WITH_C && in) ? C4[i4] : make_float4(0.f, 0.f, 0.f, 0.f);
        const int e = i4 * 4, tt = e / N, n = e % N;
        s_B[in_(n, tt)] = bv.x; s_B[in_(n + 1, tt)] = bv.y; s_B[in_(n + 2, tt)] = bv.z; s_B[in_(n + 3, tt)] = bv.w;
        if (WITH_C) {
            s_C[in_(n, tt)] = cv.x; s_C[in_(n + 1, tt)] = cv.y; s_C[in_(n + 2, tt)] = cv.z; s_C[in_(n + 3, tt)] = cv.w;
        }
    }
    int reset = 0;
    if (tid < TL) {
        reset = (resets != nullptr && tid < steps && resets[row + t0 + tid]) ? 1 : 0;
        s_keep[tid] = reset ? 0.f : 1.f;
    }
    return __syncthreads_or(reset);
}

}  // namespace ls

// ------------------------------------------------------------------------------------------------ L-split forward

template <int N, int DISC>
__device__ __forceinline__ void ls_forward_impl(
        int L, int D, const float* __restrict__ u, const float* __restrict__ delta_raw,
        const float* __restrict__ delta_bias, int softplus, const float* __restrict__ gap,
        const float* __restrict__ A, const float* __restrict__ Bm, const float* __restrict__ Cm,
        const float* __restrict__ Dskip, const float* __restrict__ z, const uint8_t* __restrict__ resets,
        int chunk_length, float* __restrict__ h, float* __restrict__ y, float* __restrict__ chunk_states) {
    using namespace ls;
    extern __shared__ float smem[];
    float* s_u = smem;
    float* s_dt = s_u + W * SW;
    float* s_g = s_dt + W * SW;
    float* s_B = s_g + W * SW;
    float* s_C = s_B + N * SN;
    float* s_keep = s_C + N * SN;
    float* s_carry = s_keep + TL;      // [W][N]
    float* s_A = s_carry + W * N;      // [W][N]
    float* s_iA = s_A + W * N;         // [W][N] 1/a

    const int tid = threadIdx.x, lane = tid & 31, w = tid >> 5;
    const int d0 = blockIdx.x * W, d = d0 + w, b = blockIdx.y;
    const bool active = d < D;
    const size_t row = (size_t)b * L;
    const int n_chunks = (L + chunk_length - 1) / chunk_length;
    const int sw_ = tid % W;
    const float stage_bias = (delta_bias != nullptr && d0 + sw_ < D) ? delta_bias[d0 + sw_] : 0.f;
    const float dskip = (Dskip != nullptr && active) ? Dskip[d] : 0.f;

    for (int n = lane; n < N; n += 32) {
        const float h0 = active ? h[((size_t)b * D + d) * N + n] : 0.f;
        s_carry[w * N + n] = h0;
        s_A[w * N + n] = active ? A[(size_t)d * N + n] : -1.f;
        s_iA[w * N + n] = 1.f / s_A[w * N + n];
        if (chunk_states != nullptr && active && L > 0) chunk_states[(((size_t)b * n_chunks) * D + d) * N + n] = h0;
    }

    for (int t0 = 0; t0 < L; t0 += TL) {
        const int steps = min(TL, L - t0);
        // Stage, including SiLU(z) into s_g.
        {
            const int sw = tid % W;
            const bool col = d0 + sw < D;
#pragma unroll
            for (int k = 0; k < TL * W / THREADS; k++) {
                const int tt = (k * THREADS + tid) / W;
                const bool in = col && tt < steps && z != nullptr;
                const float zz = in ? z[(row + t0 + tt) * D + d0 + sw] : 0.f;
                s_g[iw(sw, tt)] = z != nullptr ? zz * sigmoidf_(zz) : 1.f;
            }
        }
        const int any_reset = stage_common<N, true>(t0, steps, L, D, row, d0, tid, stage_bias, u, delta_raw,
                                                    softplus, gap, Bm, Cm, resets, s_u, s_dt, s_B, s_C, s_keep);
        float dtv[K], uv[K], yv[K];
        unsigned bbits = 0;   // bit j: the state after this step enters a chunk
#pragma unroll
        for (int j = 0; j < K; j++) {
            const int t = lane * K + j;
            dtv[j] = s_dt[iw(w, t)];
            uv[j] = s_u[iw(w, t)];
            yv[j] = 0.f;
            const int tg = t0 + t + 1;
            if (chunk_states != nullptr && tg < L && tg % chunk_length == 0) bbits |= 1u << j;
        }
        auto run = [&](auto has_reset) {
            constexpr bool R = decltype(has_reset)::value;
            unsigned rbits = 0;
            if constexpr (R) {
#pragma unroll
                for (int j = 0; j < K; j++) if (s_keep[lane * K + j] == 0.f) rbits |= 1u << j;
            }
#pragma unroll FWD_UNROLL
            for (int n = 0; n < N; n++) {
                const float a = s_A[w * N + n], a2 = a * kLog2e, inv_a = s_iA[w * N + n];
                float dA[K], bb[K];
#pragma unroll
                for (int j = 0; j < K; j++) {
                    float f;
                    discretize<DISC>(dtv[j], a, a2, inv_a, dA[j], f);
                    bb[j] = f * (s_B[in_(n, lane * K + j)] * uv[j]);
                    if constexpr (R) dA[j] = (rbits >> j) & 1u ? 0.f : dA[j];
                }
                float P = dA[0], H = bb[0];
#pragma unroll
                for (int j = 1; j < K; j++) {
                    H = fmaf(dA[j], H, bb[j]);
                    P *= dA[j];
                }
                ls::scan_up(P, H, lane);
                float pe = __shfl_up_sync(FULL_MASK, P, 1), he = __shfl_up_sync(FULL_MASK, H, 1);
                const float ptot = __shfl_sync(FULL_MASK, P, 31), htot = __shfl_sync(FULL_MASK, H, 31);
                if (lane == 0) { pe = 1.f; he = 0.f; }
                const float c = s_carry[w * N + n];
                float hv = fmaf(pe, c, he);
#pragma unroll
                for (int j = 0; j < K; j++) {
                    hv = fmaf(dA[j], hv, bb[j]);
                    yv[j] = fmaf(s_C[in_(n, lane * K + j)], hv, yv[j]);
                    if ((bbits >> j) & 1u) {
                        if (active) {
                            const int tg = t0 + lane * K + j + 1;
                            chunk_states[(((size_t)b * n_chunks + tg / chunk_length) * D + d) * N + n] = hv;
                        }
                    }
                }
                __syncwarp();
                if (lane == 0) s_carry[w * N + n] = fmaf(ptot, c, htot);
                __syncwarp();
            }
        };
        if (any_reset) run(ls::Bool<true>{}); else run(ls::Bool<false>{});
        // y through the lane's own s_dt slots (only this lane reads them), then coalesced stores.
#pragma unroll
        for (int j = 0; j < K; j++) {
            const int t = lane * K + j;
            s_dt[iw(w, t)] = (yv[j] + dskip * uv[j]) * s_g[iw(w, t)];
        }
        __syncthreads();
        {
            const int sw = tid % W;
            const bool col = d0 + sw < D;
#pragma unroll
            for (int k = 0; k < TL * W / THREADS; k++) {
                const int tt = (k * THREADS + tid) / W;
                if (col && tt < steps) y[(row + t0 + tt) * D + d0 + sw] = s_dt[iw(sw, tt)];
            }
        }
        __syncthreads();
    }
    for (int n = lane; n < N; n += 32) {
        if (active) h[((size_t)b * D + d) * N + n] = s_carry[w * N + n];
    }
}

// ------------------------------------------------------------------------------------------------ L-split backward

template <int N, int DISC>
__device__ __forceinline__ void ls_backward_impl(
        int L, int D, const float* __restrict__ u, const float* __restrict__ delta_raw,
        const float* __restrict__ delta_bias, int softplus, const float* __restrict__ gap,
        const float* __restrict__ A, const float* __restrict__ Bm, const float* __restrict__ Cm,
        const float* __restrict__ Dskip, const float* __restrict__ z, const uint8_t* __restrict__ resets,
        int chunk_length, const float* __restrict__ chunk_states, const float* __restrict__ dout,
        float* __restrict__ du, float* __restrict__ ddelta_raw, float* __restrict__ dz,
        float* __restrict__ dB, float* __restrict__ dC, float* __restrict__ dA_out, float* __restrict__ dD_out,
        float* __restrict__ dbias_out, float* __restrict__ dh0, int deterministic) {
    using namespace ls;
    extern __shared__ float smem[];
    float* s_u = smem;
    float* s_dt = s_u + W * SW;
    float* s_dyp = s_dt + W * SW;
    float* s_B = s_dyp + W * SW;
    float* s_C = s_B + N * SN;
    float* s_part = s_C + N * SN;          // [2 buffers][2: dB, dC][W][TL]
    float* s_keep = s_part + 4 * W * TL;   // [TL]
    float* s_tc = s_keep + TL;             // [W][MAXT][N] tile-entry states
    float* s_gc = s_tc + W * MAXT * N;     // [W][N] adjoint carry
    float* s_dA = s_gc + W * N;            // [W][N]
    float* s_A = s_dA + W * N;             // [W][N]
    float* s_iA = s_A + W * N;             // [W][N] 1/a
    float* s_red = s_iA + W * N;           // [W][W]

    const int tid = threadIdx.x, lane = tid & 31, w = tid >> 5;
    const int d0 = blockIdx.x * W, d = d0 + w, b = blockIdx.y;
    const bool active = d < D;
    const size_t row = (size_t)b * L;
    const int n_chunks = (L + chunk_length - 1) / chunk_length;
    const int sw = tid % W;
    const bool scol = d0 + sw < D;
    const float stage_bias = (delta_bias != nullptr && scol) ? delta_bias[d0 + sw] : 0.f;
    const float dskip = (Dskip != nullptr && active) ? Dskip[d] : 0.f;

    for (int n = lane; n < N; n += 32) {
        s_gc[w * N + n] = 0.f;
        s_dA[w * N + n] = 0.f;
        s_A[w * N + n] = active ? A[(size_t)d * N + n] : -1.f;
        s_iA[w * N + n] = 1.f / s_A[w * N + n];
    }
    float dD_acc = 0.f, dbias_acc = 0.f;   // dD: per lane of warp w; dbias: per staging column sw

    for (int k = n_chunks - 1; k >= 0; k--) {
        const int c0 = k * chunk_length, c1 = min(L, c0 + chunk_length);
        const int n_tiles = (c1 - c0 + TL - 1) / TL;
        for (int n = lane; n < N; n += 32) {
            s_tc[(w * MAXT) * N + n] = active ? chunk_states[(((size_t)b * n_chunks + k) * D + d) * N + n] : 0.f;
        }
        // Phase 1: entry states of the chunk's later tiles.
        for (int tau = 1; tau < n_tiles; tau++) {
            const int t0 = c0 + (tau - 1) * TL, steps = min(TL, c1 - t0);
            const int any_reset = stage_common<N, false>(t0, steps, L, D, row, d0, tid, stage_bias, u, delta_raw,
                                                         softplus, gap, Bm, Cm, resets, s_u, s_dt, s_B, s_C, s_keep);
            float dtv[K], uv[K];
            unsigned rbits = 0;
#pragma unroll
            for (int j = 0; j < K; j++) {
                dtv[j] = s_dt[iw(w, lane * K + j)];
                uv[j] = s_u[iw(w, lane * K + j)];
                if (any_reset && s_keep[lane * K + j] == 0.f) rbits |= 1u << j;
            }
#pragma unroll 1
            for (int n = 0; n < N; n++) {
                const float a = s_A[w * N + n], a2 = a * kLog2e, inv_a = s_iA[w * N + n];
                float P = 1.f, H = 0.f;
#pragma unroll
                for (int j = 0; j < K; j++) {
                    float dA, f;
                    discretize<DISC>(dtv[j], a, a2, inv_a, dA, f);
                    if ((rbits >> j) & 1u) dA = 0.f;
                    H = fmaf(dA, H, f * (s_B[in_(n, lane * K + j)] * uv[j]));
                    P *= dA;
                }
                ls::scan_up(P, H, lane);
                const float ptot = __shfl_sync(FULL_MASK, P, 31), htot = __shfl_sync(FULL_MASK, H, 31);
                if (lane == 0) {
                    const float c = s_tc[(w * MAXT + tau - 1) * N + n];
                    s_tc[(w * MAXT + tau) * N + n] = fmaf(ptot, c, htot);
                }
            }
            __syncthreads();
        }
        // Phase 2: tiles in reverse.
        for (int tau = n_tiles - 1; tau >= 0; tau--) {
            const int t0 = c0 + tau * TL, steps = min(TL, c1 - t0);
            // dy' = dout·SiLU(z) into s_dyp.
#pragma unroll
            for (int kk = 0; kk < TL * W / THREADS; kk++) {
                const int tt = (kk * THREADS + tid) / W;
                const bool in = scol && tt < steps;
                const size_t idx = (row + t0 + tt) * D + d0 + sw;
                const float go = in ? dout[idx] : 0.f;
                const float zz = (in && z != nullptr) ? z[idx] : 0.f;
                s_dyp[iw(sw, tt)] = z != nullptr ? go * zz * sigmoidf_(zz) : go;
            }
            const int any_reset = stage_common<N, true>(t0, steps, L, D, row, d0, tid, stage_bias, u, delta_raw,
                                                        softplus, gap, Bm, Cm, resets, s_u, s_dt, s_B, s_C, s_keep);
            float dtv[K], uv[K], dyv[K], ddt[K], duv[K], ypre[K];
            unsigned rbits = 0;
#pragma unroll
            for (int j = 0; j < K; j++) {
                const int t = lane * K + j;
                dtv[j] = s_dt[iw(w, t)];
                uv[j] = s_u[iw(w, t)];
                dyv[j] = s_dyp[iw(w, t)];
                ddt[j] = duv[j] = ypre[j] = 0.f;
                if (any_reset && s_keep[t] == 0.f) rbits |= 1u << j;
                dD_acc = fmaf(dyv[j], uv[j], dD_acc);
            }
#pragma unroll 1
            for (int n = 0; n < N; n++) {
                const int buf = n & 1;
                float* partB = s_part + ((buf * 2 + 0) * W + w) * TL;
                float* partC = s_part + ((buf * 2 + 1) * W + w) * TL;
                const float a = s_A[w * N + n], a2 = a * kLog2e, inv_a = s_iA[w * N + n];
                float dA[K], f[K], prev[K], cc[K];
                float P = 1.f, H = 0.f;
#pragma unroll
                for (int j = 0; j < K; j++) {
                    discretize<DISC>(dtv[j], a, a2, inv_a, dA[j], f[j]);
                    const float dak = (rbits >> j) & 1u ? 0.f : dA[j];
                    H = fmaf(dak, H, f[j] * (s_B[in_(n, lane * K + j)] * uv[j]));
                    P *= dak;
                }
                ls::scan_up(P, H, lane);
                float pe = __shfl_up_sync(FULL_MASK, P, 1), he = __shfl_up_sync(FULL_MASK, H, 1);
                if (lane == 0) { pe = 1.f; he = 0.f; }
                float hv = fmaf(pe, s_tc[(w * MAXT + tau) * N + n], he);
#pragma unroll
                for (int j = 0; j < K; j++) {
                    const int t = lane * K + j;
                    prev[j] = (rbits >> j) & 1u ? 0.f : hv;
                    hv = fmaf(dA[j], prev[j], f[j] * (s_B[in_(n, t)] * uv[j]));
                    const float cn = s_C[in_(n, t)];
                    ypre[j] = fmaf(cn, hv, ypre[j]);
                    cc[j] = cn * dyv[j];
                    partC[t] = dyv[j] * hv;
                }
                // Adjoint: G_t = dAk_t·(c_t + G_{t+1}); the lane's map G_in ↦ Pr·G_in + Hr.
                float Pr = 1.f, Hr = 0.f;
#pragma unroll
                for (int j = K - 1; j >= 0; j--) {
                    const float dak = (rbits >> j) & 1u ? 0.f : dA[j];
                    Hr = dak * (cc[j] + Hr);
                    Pr *= dak;
                }
                ls::scan_down(Pr, Hr, lane);
                float pn = __shfl_down_sync(FULL_MASK, Pr, 1), hn = __shfl_down_sync(FULL_MASK, Hr, 1);
                const float p0 = __shfl_sync(FULL_MASK, Pr, 0), h0v = __shfl_sync(FULL_MASK, Hr, 0);
                if (lane == 31) { pn = 1.f; hn = 0.f; }
                const float cg = s_gc[w * N + n];
                float G = fmaf(pn, cg, hn);
                float da_loc = 0.f;
#pragma unroll
                for (int j = K - 1; j >= 0; j--) {
                    const int t = lane * K + j;
                    const float g = cc[j] + G;
                    const float bn = s_B[in_(n, t)], bu = bn * uv[j];
                    float dA_ddt, f_ddt, dA_da, f_da;
                    discretize_grads<DISC>(dtv[j], a, dA[j], f[j], dA_ddt, f_ddt, dA_da, f_da);
                    ddt[j] = fmaf(g, fmaf(bu, f_ddt, prev[j] * dA_ddt), ddt[j]);
                    da_loc = fmaf(g, fmaf(bu, f_da, prev[j] * dA_da), da_loc);
                    const float gf = g * f[j];
                    duv[j] = fmaf(gf, bn, duv[j]);
                    partB[t] = gf * uv[j];
                    G = (rbits >> j) & 1u ? 0.f : dA[j] * g;
                }
#pragma unroll
                for (int off = 16; off >= 1; off /= 2) da_loc += __shfl_xor_sync(FULL_MASK, da_loc, off);
                __syncwarp();
                if (lane == 0) {
                    s_gc[w * N + n] = fmaf(p0, cg, h0v);
                    s_dA[w * N + n] += da_loc;
                }
                __syncthreads();
                // Sum the block's channels for step tid, state n; park it in the freed B/C rows.
                {
                    const float* pB = s_part + (buf * 2 + 0) * W * TL;
                    const float* pC = s_part + (buf * 2 + 1) * W * TL;
                    float sb = 0.f, sc = 0.f;
#pragma unroll
                    for (int ww = 0; ww < W; ww++) {
                        sb += pB[ww * TL + tid];
                        sc += pC[ww * TL + tid];
                    }
                    s_B[in_(n, tid)] = sb;
                    s_C[in_(n, tid)] = sc;
                }
            }
            // Per-(t, d) results through the lane's own slots.
#pragma unroll
            for (int j = 0; j < K; j++) {
                const int t = lane * K + j;
                s_dt[iw(w, t)] = ddt[j];
                s_u[iw(w, t)] = duv[j] + dskip * dyv[j];
                s_dyp[iw(w, t)] = ypre[j] + dskip * uv[j];
            }
            __syncthreads();
            // dB, dC of the tile: [t][n] rows are contiguous in global memory.
            {
                const int valid4 = steps * N / 4;
                for (int i4 = tid; i4 < valid4; i4 += THREADS) {
                    const int e = i4 * 4, tt = e / N, n = e % N;
                    const float4 vb = make_float4(s_B[in_(n, tt)], s_B[in_(n + 1, tt)], s_B[in_(n + 2, tt)],
                                                  s_B[in_(n + 3, tt)]);
                    const float4 vc = make_float4(s_C[in_(n, tt)], s_C[in_(n + 1, tt)], s_C[in_(n + 2, tt)],
                                                  s_C[in_(n + 3, tt)]);
                    if (deterministic) {
                        const size_t base = (((size_t)b * gridDim.x + blockIdx.x) * L + t0) * N;
                        reinterpret_cast<float4*>(dB + base)[i4] = vb;
                        reinterpret_cast<float4*>(dC + base)[i4] = vc;
                    } else {
                        float* pb = dB + (row + t0) * N + e;
                        float* pc = dC + (row + t0) * N + e;
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
                        atomicAdd(reinterpret_cast<float4*>(pb), vb);
                        atomicAdd(reinterpret_cast<float4*>(pc), vc);
#else
                        atomicAdd(pb, vb.x); atomicAdd(pb + 1, vb.y); atomicAdd(pb + 2, vb.z); atomicAdd(pb + 3, vb.w);
                        atomicAdd(pc, vc.x); atomicAdd(pc + 1, vc.y); atomicAdd(pc + 2, vc.z); atomicAdd(pc + 3, vc.w);
#endif
                    }
                }
            }
            // du, dΔ_raw, dz, coalesced; the factors dΔ/dΔ_raw and ∂y/∂(pre-gate) recomputed from the inputs.
#pragma unroll
            for (int kk = 0; kk < TL * W / THREADS; kk++) {
                const int tt = (kk * THREADS + tid) / W;
                if (scol && tt < steps) {
                    const size_t idx = (row + t0 + tt) * D + d0 + sw;
                    const float raw = delta_raw[idx] + stage_bias;
                    const float g = gap != nullptr ? gap[row + t0 + tt] : 1.f;
                    const float dtf = (softplus && raw <= kSoftplusThreshold) ? g * sigmoidf_(raw) : g;
                    const float ddraw = s_dt[iw(sw, tt)] * dtf;
                    ddelta_raw[idx] = ddraw;
                    dbias_acc += ddraw;
                    du[idx] = s_u[iw(sw, tt)];
                    if (z != nullptr) {
                        const float go = dout[idx], zv = z[idx], sg = sigmoidf_(zv);
                        dz[idx] = go * sg * (1.f + zv * (1.f - sg)) * s_dyp[iw(sw, tt)];
                    }
                }
            }
            __syncthreads();
        }
    }
    // Per-channel sums. dD: lanes of warp w; dΔ_bias: threads of staging column sw (lanes ≡ sw mod 8).
#pragma unroll
    for (int off = 16; off >= 1; off /= 2) dD_acc += __shfl_xor_sync(FULL_MASK, dD_acc, off);
    dbias_acc += __shfl_xor_sync(FULL_MASK, dbias_acc, 8);
    dbias_acc += __shfl_xor_sync(FULL_MASK, dbias_acc, 16);
    if (lane < W) s_red[w * W + lane] = dbias_acc;
    __syncthreads();
    if (active) {
        for (int n = lane; n < N; n += 32) {
            dh0[((size_t)b * D + d) * N + n] = s_gc[w * N + n];
            if (deterministic) {
                dA_out[((size_t)b * D + d) * N + n] = s_dA[w * N + n];
            } else {
                atomicAdd(&dA_out[(size_t)d * N + n], s_dA[w * N + n]);
            }
        }
        if (lane == 0) {
            float sbias = 0.f;
#pragma unroll
            for (int ww = 0; ww < W; ww++) sbias += s_red[ww * W + w];
            if (deterministic) {
                dD_out[(size_t)b * D + d] = dD_acc;
                dbias_out[(size_t)b * D + d] = sbias;
            } else {
                atomicAdd(&dD_out[d], dD_acc);
                atomicAdd(&dbias_out[d], sbias);
            }
        }
    }
}

