// Standalone timing/compare harness for the scan kernels (no Java): loads two fatbins/cubins ("old", "new") through
// the driver API, exactly as DeviceScan launches them, times each kernel pair with CUDA events and compares the new
// kernels' outputs with the old ones' in units of the parity tolerances (rtol 6e-4, atol 2e-3; the Java parity tests
// against the double oracle remain the arbiter).
//   nvcc -O2 -o scan-harness bench/gpu/scan-harness.cu
//   ./scan-harness old.fatbin new.fatbin [B L D] spec...     spec = fwd|bwd:zoh|euler|bilinear:oldvar:newvar
//   SCAN_CHUNK=k sets the chunk interval (default 256).
//   var = p4, p2 (sequential kernels, 4 / 2 states per thread; as backwards, sw_scan_bwd_*_p{4,2}, only in builds up
//   to commit 5359045), ls (L-split), v2 (the rewritten backward, sw_scan_bwd2_*) or v2p2 (the same with 2 states per
//   thread, sw_scan_bwd2_*_n16_p2); N = 16, chunk 256.
#include <cuda.h>
#include <cuda_runtime.h>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#define CK(x) do { cudaError_t e_ = (x); if (e_ != cudaSuccess) { fprintf(stderr, "%s:%d %s\n", __FILE__, __LINE__, cudaGetErrorString(e_)); exit(1); } } while (0)
#define DK(x) do { CUresult e_ = (x); if (e_ != CUDA_SUCCESS) { fprintf(stderr, "%s:%d driver error %d\n", __FILE__, __LINE__, (int)e_); exit(1); } } while (0)

static CUresult (*pModuleLoadData)(CUmodule*, const void*);
static CUresult (*pModuleGetFunction)(CUfunction*, CUmodule, const char*);
static CUresult (*pLaunchKernel)(CUfunction, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned,
                                 CUstream, void**, void**);
static CUresult (*pFuncSetAttribute)(CUfunction, CUfunction_attribute, int);

template <class F>
static void entry(const char* name, F& fn) {
    cudaDriverEntryPointQueryResult q;
    CK(cudaGetDriverEntryPointByVersion(name, (void**)&fn, 12000, cudaEnableDefault, &q));
    if (q != cudaDriverEntryPointSuccess) { fprintf(stderr, "no %s\n", name); exit(1); }
}

static std::vector<char> slurp(const char* path) {
    FILE* f = fopen(path, "rb");
    if (!f) { perror(path); exit(1); }
    std::vector<char> v;
    char buf[1 << 16];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) v.insert(v.end(), buf, buf + n);
    fclose(f);
    return v;
}

struct Buf {
    float* p = nullptr;
    size_t n = 0;
    void alloc(size_t count) { n = count; CK(cudaMalloc(&p, std::max<size_t>(count, 1) * 4)); CK(cudaMemset(p, 0, std::max<size_t>(count, 1) * 4)); }
    void up(const std::vector<float>& v) { CK(cudaMemcpy(p, v.data(), v.size() * 4, cudaMemcpyHostToDevice)); }
    std::vector<float> down() const { std::vector<float> v(n); CK(cudaMemcpy(v.data(), p, n * 4, cudaMemcpyDeviceToHost)); return v; }
};

static int Bt = 8, Lt = 2048, Dt = 1024;
static const int N = 16;
// chunk interval of the stored states: 256, or $SCAN_CHUNK
static const int CHUNK = getenv("SCAN_CHUNK") ? atoi(getenv("SCAN_CHUNK")) : 256;
static bool with_resets = false;

struct Problem {
    Buf u, raw, bias, gap, A, Bm, Cm, Dskip, z, h0, dout;
    uint8_t* resets = nullptr;
    void make(unsigned seed) {
        std::mt19937_64 r(seed);
        std::uniform_real_distribution<double> U(0, 1);
        auto uni = [&](size_t n, float s) { std::vector<float> v(n); for (auto& x : v) x = (float)((U(r) * 2 - 1) * s); return v; };
        size_t bld = (size_t)Bt * Lt * Dt, bln = (size_t)Bt * Lt * N;
        std::vector<float> vu = uni(bld, 1.7f), vraw = uni(bld, 1.f), vb(Dt), vg((size_t)Bt * Lt), va((size_t)Dt * N);
        for (int d = 0; d < Dt; d++) {
            double dt = exp(log(1e-3) + U(r) * (log(0.1) - log(1e-3)));
            vb[d] = (float)(dt + log(-expm1(-dt)));
        }
        if (bld > 3) vraw[bld / 3] = 25.f;
        for (auto& g : vg) g = (float)(0.5 + 2.5 * U(r));
        for (size_t i = 0; i < va.size(); i++) va[i] = -(float)((i % N + 1) * (0.5 + U(r)));
        u.alloc(bld); u.up(vu); raw.alloc(bld); raw.up(vraw); bias.alloc(Dt); bias.up(vb);
        gap.alloc(vg.size()); gap.up(vg); A.alloc(va.size()); A.up(va);
        Bm.alloc(bln); Bm.up(uni(bln, 1.7f)); Cm.alloc(bln); Cm.up(uni(bln, 1.7f));
        Dskip.alloc(Dt); Dskip.up(uni(Dt, 1.7f)); z.alloc(bld); z.up(uni(bld, 2.f));
        h0.alloc((size_t)Bt * Dt * N); h0.up(uni((size_t)Bt * Dt * N, with_resets ? 1.f : 0.f));
        dout.alloc(bld); dout.up(uni(bld, 1.f));
        if (with_resets) {
            std::vector<uint8_t> rs((size_t)Bt * Lt);
            for (auto& x : rs) x = U(r) < 0.01;
            rs[0] = 1;
            CK(cudaMalloc(&resets, rs.size()));
            CK(cudaMemcpy(resets, rs.data(), rs.size(), cudaMemcpyHostToDevice));
        }
    }
};

struct Out {
    Buf h, y, cs, du, ddr, dz, dB, dC, dA, dD, dbias, dh0;
    void alloc() {
        size_t bld = (size_t)Bt * Lt * Dt, bln = (size_t)Bt * Lt * N, chunks = (Lt + CHUNK - 1) / CHUNK;
        h.alloc((size_t)Bt * Dt * N); y.alloc(bld); cs.alloc(chunks * Bt * Dt * N);
        du.alloc(bld); ddr.alloc(bld); dz.alloc(bld); dB.alloc(bln); dC.alloc(bln);
        dA.alloc((size_t)Dt * N); dD.alloc(Dt); dbias.alloc(Dt); dh0.alloc((size_t)Bt * Dt * N);
    }
};

struct Kern {
    CUfunction f;
    int threads, cpb, shared;
};

static const int LS_SW = 8 * 33 + 4, LS_SN = 8 * 33 + 2;

static Kern kernel(CUmodule m, bool fwd, const std::string& disc, const std::string& var) {
    Kern k{};
    std::string name;
    if (var == "ls") {
        name = std::string("sw_scan_ls_") + (fwd ? "fwd_" : "bwd_") + disc + "_n16";
        k.threads = 256; k.cpb = 8;
        k.shared = fwd ? 4 * (3 * 8 * LS_SW + 2 * N * LS_SN + 256 + 3 * 8 * N)
                       : 4 * (3 * 8 * LS_SW + 2 * N * LS_SN + 4 * 8 * 256 + 256 + 8 * 4 * N + 4 * 8 * N + 64);
    } else if (var == "v2" || var == "v2p2") {
        const int npt = var == "v2" ? 4 : 2;
        name = std::string("sw_scan_bwd2_") + disc + "_n16" + (npt == 2 ? "_p2" : "");
        k.threads = 128; k.cpb = 128 / (N / npt);
        k.shared = 2 * 4 * k.cpb * 2 * N * 4 + (CHUNK + 15) / 16 * 128 * npt * 4;
    } else {
        int npt = var[1] - '0';
        name = std::string("sw_scan_") + (fwd ? "fwd_" : "bwd_") + disc + "_n16_" + var;
        k.threads = 128; k.cpb = 128 / (N / npt);
        k.shared = fwd ? 0 : (CHUNK + 7) / 8 * 128 * npt * 4;
    }
    DK(pModuleGetFunction(&k.f, m, name.c_str()));
    if (k.shared > 0) DK(pFuncSetAttribute(k.f, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, k.shared));
    if (var == "ls" || var == "v2" || var == "v2p2") DK(pFuncSetAttribute(k.f, CU_FUNC_ATTRIBUTE_PREFERRED_SHARED_MEMORY_CARVEOUT, 100));
    return k;
}

// The trailing (seg_len, n_seg, seg_state, seg_decay) and (n_seg, seg_state, seg_decay) arguments are what the
// sequential kernels took up to commit cd838ae (segmented launches, since removed), here as one walk (n_seg = 1).
// The driver reads only the parameters a kernel declares, so the harness times builds from before and after.
static void launch_fwd(const Kern& k, Problem& p, Out& o) {
    int L = Lt, D = Dt, softplus = 1, chunk = CHUNK, seg_len = Lt, n_seg = 1;
    void* nul = nullptr;
    CK(cudaMemcpyAsync(o.h.p, p.h0.p, o.h.n * 4, cudaMemcpyDeviceToDevice));
    void* args[] = {&L, &D, &p.u.p, &p.raw.p, &p.bias.p, &softplus, &p.gap.p, &p.A.p, &p.Bm.p, &p.Cm.p, &p.Dskip.p,
                    &p.z.p, &p.resets, &chunk, &o.h.p, &o.y.p, &o.cs.p, &seg_len, &n_seg, &nul, &nul};
    DK(pLaunchKernel(k.f, (D + k.cpb - 1) / k.cpb, Bt, 1, k.threads, 1, 1, k.shared, 0, args, nullptr));
}

static void launch_bwd(const Kern& k, Problem& p, const Buf& cs, Out& o, bool ls) {
    int L = Lt, D = Dt, softplus = 1, chunk = CHUNK, det = 0, n_seg = 1;
    void* nul = nullptr;
    for (Buf* b : {&o.dB, &o.dC, &o.dA, &o.dD, &o.dbias}) CK(cudaMemsetAsync(b->p, 0, b->n * 4));
    void* args[] = {&L, &D, &p.u.p, &p.raw.p, &p.bias.p, &softplus, &p.gap.p, &p.A.p, &p.Bm.p, &p.Cm.p, &p.Dskip.p,
                    &p.z.p, &p.resets, &chunk, (void*)&cs.p, &p.dout.p, &o.du.p, &o.ddr.p, &o.dz.p, &o.dB.p, &o.dC.p,
                    &o.dA.p, &o.dD.p, &o.dbias.p, &o.dh0.p, &det, &n_seg, &nul, &nul};
    (void)ls;
    DK(pLaunchKernel(k.f, (D + k.cpb - 1) / k.cpb, Bt, 1, k.threads, 1, 1, k.shared, 0, args, nullptr));
}

template <class F>
static double time_us(F f, int warm = 10, int iters = 60) {
    for (int i = 0; i < warm; i++) f();
    CK(cudaDeviceSynchronize());
    cudaEvent_t a, b;
    CK(cudaEventCreate(&a)); CK(cudaEventCreate(&b));
    std::vector<float> ts;
    for (int i = 0; i < iters; i++) {
        CK(cudaEventRecord(a)); f(); CK(cudaEventRecord(b)); CK(cudaEventSynchronize(b));
        float ms; CK(cudaEventElapsedTime(&ms, a, b)); ts.push_back(ms * 1000);
    }
    std::sort(ts.begin(), ts.end());
    return ts[ts.size() / 2];
}

// max |new − old| / (atol + rtol·|old|) with the parity tolerances scaled by `scale` (gradients: the test's factors).
static void cmp(const char* what, const Buf& a, const Buf& b, double scale, bool scaled_by_max = false) {
    auto va = a.down(), vb = b.down();
    double worst = 0, maxerr = 0, maxv = 0;
    size_t wi = 0;
    for (float x : va) maxv = std::max(maxv, (double)fabs(x));
    double rtol = scaled_by_max ? 1e-3 : 6e-4 * scale, atol = scaled_by_max ? 1e-3 * std::max(maxv, 1e-6) : 2e-3 * scale;
    for (size_t i = 0; i < va.size(); i++) {
        if (!std::isfinite(vb[i])) { printf("    %-6s NON-FINITE at %zu\n", what, i); return; }
        double e = fabs((double)vb[i] - va[i]);
        maxerr = std::max(maxerr, e);
        double r = e / (atol + rtol * fabs(va[i]));
        if (r > worst) { worst = r; wi = i; }
    }
    printf("    %-6s max|diff| %.2e  worst/tol %.4f (at %zu: old %.6g new %.6g)%s\n", what, maxerr, worst, wi, va[wi], vb[wi],
           worst > 0.25 ? "  <-- LARGE" : "");
}

int main(int argc, char** argv) {
    if (argc < 4) { fprintf(stderr, "usage: %s old.fatbin new.fatbin [B L D R] spec...\n", argv[0]); return 2; }
    int ai = 3;
    if (argc > 7 && isdigit(argv[3][0])) {
        Bt = atoi(argv[3]); Lt = atoi(argv[4]); Dt = atoi(argv[5]); with_resets = atoi(argv[6]) != 0; ai = 7;
    }
    CK(cudaSetDevice(0));
    CK(cudaFree(0));
    entry("cuModuleLoadData", pModuleLoadData);
    entry("cuModuleGetFunction", pModuleGetFunction);
    entry("cuLaunchKernel", pLaunchKernel);
    entry("cuFuncSetAttribute", pFuncSetAttribute);
    auto old_img = slurp(argv[1]), new_img = slurp(argv[2]);
    CUmodule mo, mn;
    DK(pModuleLoadData(&mo, old_img.data()));
    DK(pModuleLoadData(&mn, new_img.data()));
    printf("shape B %d L %d D %d N %d chunk %d resets %d\n", Bt, Lt, Dt, N, CHUNK, (int)with_resets);
    Problem p;
    p.make(42);
    Out oo, on;
    oo.alloc(); on.alloc();
    for (int i = ai; i < argc; i++) {
        std::string s = argv[i];
        size_t c1 = s.find(':'), c2 = s.find(':', c1 + 1), c3 = s.find(':', c2 + 1);
        std::string dir = s.substr(0, c1), disc = s.substr(c1 + 1, c2 - c1 - 1), vo = s.substr(c2 + 1, c3 - c2 - 1),
                    vn = s.substr(c3 + 1);
        bool fwd = dir == "fwd";
        Kern ko = kernel(mo, fwd, disc, vo), kn = kernel(mn, fwd, disc, vn);
        if (fwd) {
            double to = time_us([&] { launch_fwd(ko, p, oo); }), tn = time_us([&] { launch_fwd(kn, p, on); });
            launch_fwd(ko, p, oo); launch_fwd(kn, p, on); CK(cudaDeviceSynchronize());
            printf("%-28s old %8.1f us  new %8.1f us  (%.2fx)\n", s.c_str(), to, tn, to / tn);
            cmp("y", oo.y, on.y, 1); cmp("h", oo.h, on.h, 1); cmp("chunk", oo.cs, on.cs, 1);
        } else {
            // Both from the old p4 forward's chunk states.
            Kern kf = kernel(mo, true, disc, "p4");
            launch_fwd(kf, p, oo); CK(cudaDeviceSynchronize());
            double to = time_us([&] { launch_bwd(ko, p, oo.cs, oo, vo == "ls"); });
            double tn = time_us([&] { launch_bwd(kn, p, oo.cs, on, vn == "ls"); });
            launch_bwd(ko, p, oo.cs, oo, vo == "ls"); launch_bwd(kn, p, oo.cs, on, vn == "ls"); CK(cudaDeviceSynchronize());
            printf("%-28s old %8.1f us  new %8.1f us  (%.2fx)\n", s.c_str(), to, tn, to / tn);
            cmp("du", oo.du, on.du, 2); cmp("dDraw", oo.ddr, on.ddr, 5); cmp("dz", oo.dz, on.dz, 2);
            cmp("dB", oo.dB, on.dB, 1, true); cmp("dC", oo.dC, on.dC, 1, true); cmp("dA", oo.dA, on.dA, 1, true);
            cmp("dD", oo.dD, on.dD, 1, true); cmp("dbias", oo.dbias, on.dbias, 1, true); cmp("dh0", oo.dh0, on.dh0, 2);
        }
        fflush(stdout);
    }
    return 0;
}
