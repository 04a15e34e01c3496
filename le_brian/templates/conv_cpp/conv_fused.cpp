{# USES_VARIABLES { N } #}
{# ALLOWS_SCALAR_WRITE #}
{# le_brian ConvProjection (le_brian/engine/conv.py): one pass over the shared kernel of
   a convolutional projection, geometry baked in as constants (no index arrays).

   Groups (flat C order): rate r of the layer below (C, H, W), forward sum I_ff and
   error e of the layer (O, HO, WO), feedback sum I_fb of the layer below (C, H, W),
   kernel K (O, C, KH, KW), entry k = ((o*C + c)*KH + i)*KW + j. For every output
   channel o and input channel c the pass takes the KH*KW kernel entries of (o, c)
   once and, for each entry (i, j), walks the output positions (y, x) whose input
   position (yy, xx) = (y*SH + i - PH, x*SW + j - PW) lies inside the input:

       I_ff[o, y, x]   += K r[c, yy, xx]     (terms in kernel-entry order, as Brian2's
                                              summed variable over ConvGeometry.pairs())
       I_fb[c, yy, xx] += K e[o, y, x]
       g               += e[o, y, x] r[c, yy, xx]   (positions in row-major order)

   then writes K + dt*eta*g: every term uses the kernel as it was at the start of the
   pass. The output channels are cut into _conv_chunks chunks (a number fixed by O);
   each chunk owns its channels' forward sums and kernel entries and sums its feedback
   terms into its own partial I_fb, and the partials are added in chunk order. The
   same code runs with and without OpenMP threads (threads take chunks), so the
   results are the same bits for any number of threads, 0 included.

   Evaluation branch: where a learning rate is given and its value is 0 in a run, the
   pass computes the sums only and writes no kernel entry (same compiled program). #}
{% extends 'common_group.cpp' %}
{% set _t = c_data_type(variables['_conv_w'].dtype) %}
{% set _g = conv %}

{% block extra_headers %}
#include <algorithm>
#include <vector>
// Brian2 compiles with -ffast-math, which lets the compiler reassociate sums
// differently where code is inlined into different callers (measured: the chunk
// reduction differed between the builds with and without OpenMP). The functions
// that add terms are therefore not inlined: each is compiled once, the same for any
// number of threads.
#if defined(__GNUC__)
#define _CONV_NOINLINE __attribute__((noinline))
#else
#define _CONV_NOINLINE
#endif
namespace {
namespace _conv_{{codeobj_name}} {
typedef {{_t}} T;
constexpr int C = {{_g.C}}, H = {{_g.H}}, W = {{_g.W}};
constexpr int O = {{_g.O}}, HO = {{_g.HO}}, WO = {{_g.WO}};
constexpr int KH = {{_g.KH}}, KW = {{_g.KW}}, SH = {{_g.SH}}, SW = {{_g.SW}};
constexpr int PH = {{_g.PH}}, PW = {{_g.PW}};
constexpr int CHUNKS = {{_g.chunks}}, CHUNK_O = {{_g.chunk_o}};

constexpr int HP = H + 2 * PH, WP = W + 2 * PW;  // the padded input
constexpr int PLANE = HP * WP;
// rows of the spread error planes and the partial feedback sums: WP values padded
// to whole 64-byte vectors
constexpr int VL = 64 / sizeof(T), NVP = (WP + VL - 1) / VL, WPV = NVP * VL;
constexpr int FBPLANE = HP * WPV;
// rows of the forward sum and kernel columns of the gradient handled at a time
constexpr int RB = {{_g.RB}}, JB = {{_g.JB}};

// Explicit vectors (GCC / Clang vector extensions: 64 bytes, one AVX-512 register or
// two AVX2 ones) for the gradient where an output row is a whole number of vectors
// of contiguous inputs (stride 1 in x): the partial sums of one kernel row's KW
// entries stay in registers over all output rows, each error row is loaded once.
#if defined(__GNUC__)
constexpr int NV = WO / VL > 0 ? WO / VL : 1;
constexpr bool VEC = SW == 1 && WO % VL == 0;
typedef T V __attribute__((vector_size(64)));
inline V loadu(const T* p) { V v; __builtin_memcpy(&v, p, sizeof(V)); return v; }
inline void storeu(T* p, const V& v) { __builtin_memcpy(p, &v, sizeof(V)); }

inline void gradient_vec(const T* __restrict rp, const T* __restrict e,
                         const T* __restrict kv, T* __restrict k, const T rate)
{
    for (int i = 0; i < KH; i++)
    {
        V lane[KW][NV];
        for (int j = 0; j < KW; j++)
            for (int v = 0; v < NV; v++) lane[j][v] = V{};
        for (int y = 0; y < HO; y++)
        {
            V ev[NV];
            for (int v = 0; v < NV; v++) ev[v] = loadu(e + y * WO + v * VL);
            const T* __restrict rr = rp + (y * SH + i) * WP;
            for (int j = 0; j < KW; j++)
                for (int v = 0; v < NV; v++) lane[j][v] += ev[v] * loadu(rr + j + v * VL);
        }
        for (int j = 0; j < KW; j++)
        {
            V sum = lane[j][0];
            for (int v = 1; v < NV; v++) sum += lane[j][v];
            T t[VL];
            __builtin_memcpy(t, &sum, sizeof(V));
            for (int n = VL; n > 1; n /= 2)  // fold: t[x] += t[x + n/2]
                for (int x = 0; x < n / 2; x++) t[x] += t[x + n / 2];
            k[i * KW + j] = kv[i * KW + j] + rate * t[0];
        }
    }
}

// Output rows of exactly one vector at stride 1 (LeNet-5's conv2 in float64): for
// each kernel column j the HO + KH - 1 input rows shifted by j are loaded once and
// every forward sum (all output rows in registers) and gradient partial sum (the KH
// entries of column j) that uses them is formed from registers: one unaligned load
// per KH multiply-adds instead of one per multiply-add.
constexpr bool ROWS1 = SW == 1 && SH == 1 && WO == VL;
constexpr int NR = HO + KH - 1;  // input rows that the output rows read

inline void forward_rows1(const T* __restrict rp, const T* __restrict kv, T* __restrict ff)
{
    V acc[HO];
    for (int y = 0; y < HO; y++) acc[y] = loadu(ff + y * WO);
    for (int j = 0; j < KW; j++)
    {
        V s[NR];
        for (int Y = 0; Y < NR; Y++) s[Y] = loadu(rp + Y * WP + j);
        for (int i = 0; i < KH; i++)
        {
            const T kk = kv[i * KW + j];
            for (int y = 0; y < HO; y++) acc[y] += kk * s[y + i];
        }
    }
    for (int y = 0; y < HO; y++) storeu(ff + y * WO, acc[y]);
}

inline void gradient_rows1(const T* __restrict rp, const T* __restrict e,
                           const T* __restrict kv, T* __restrict k, const T rate)
{
    V ev[HO];
    for (int y = 0; y < HO; y++) ev[y] = loadu(e + y * WO);
    for (int j = 0; j < KW; j++)
    {
        V s[NR];
        for (int Y = 0; Y < NR; Y++) s[Y] = loadu(rp + Y * WP + j);
        V lane[KH];
        for (int i = 0; i < KH; i++) lane[i] = V{};
        for (int i = 0; i < KH; i++)
            for (int y = 0; y < HO; y++) lane[i] += ev[y] * s[y + i];
        for (int i = 0; i < KH; i++)
        {
            T t[VL];
            __builtin_memcpy(t, &lane[i], sizeof(V));
            for (int n = VL; n > 1; n /= 2)  // fold: t[x] += t[x + n/2]
                for (int x = 0; x < n / 2; x++) t[x] += t[x + n / 2];
            k[i * KW + j] = kv[i * KW + j] + rate * t[0];
        }
    }
}

// the feedback sums of one (o, c) pair, by output row y: the KH input rows it
// reaches (y*SH + i) are kept in registers over the kernel entries
inline void feedback_vec(const T* __restrict es, T* __restrict fb, const T* __restrict kv)
{
    for (int y = 0; y < HO; y++)
        for (int i = 0; i < KH; i++)
        {
            T* __restrict fr = fb + (y * SH + i) * WPV;
            V acc[NVP];
            for (int v = 0; v < NVP; v++) acc[v] = loadu(fr + v * VL);
            for (int j = 0; j < KW; j++)
            {
                const T kk = kv[i * KW + j];
                for (int v = 0; v < NVP; v++)
                    acc[v] += kk * loadu(es + (j * HO + y) * WPV + v * VL);
            }
            for (int v = 0; v < NVP; v++) storeu(fr + v * VL, acc[v]);
        }
}
#define _CONV_VECTORS 1

// Feedback by rows (output rows of one float64 vector at stride 1, padded input rows
// of at most two vectors: LeNet-5's conv2): for each padded input row Y and kernel
// column j, t_j = the sum over the chunk's output channels o and kernel rows i of
// K[o,c,i,j] e[o, Y-i] (8 positions x, in registers; every multiply-add a pair's),
// then the row is the sum over j of t_j shifted right by j lanes (two vector shuffles
// per j and row, once per chunk instead of per output channel).
#if defined(__clang__) || __GNUC__ >= 12
constexpr bool FBROWS = ROWS1 && VL == 8 && NVP == 2;

template <int J>
inline void shift_add(const V t, V& lo, V& hi)
{
    const V z = V{};
    lo += __builtin_shufflevector(t, z, 0 >= J ? 0 - J : 8, 1 >= J ? 1 - J : 8,
        2 >= J ? 2 - J : 8, 3 >= J ? 3 - J : 8, 4 >= J ? 4 - J : 8, 5 >= J ? 5 - J : 8,
        6 >= J ? 6 - J : 8, 7 >= J ? 7 - J : 8);
    hi += __builtin_shufflevector(t, z, 0 < J ? 8 - J + 0 : 8, 1 < J ? 8 - J + 1 : 8,
        2 < J ? 8 - J + 2 : 8, 3 < J ? 8 - J + 3 : 8, 4 < J ? 8 - J + 4 : 8,
        5 < J ? 8 - J + 5 : 8, 6 < J ? 8 - J + 6 : 8, 7 < J ? 8 - J + 7 : 8);
}

// lo, hi += the sum over j < J of t[j] shifted by j lanes (in j order)
template <int J>
struct ShiftAll
{
    static inline void run(const V* t, V& lo, V& hi)
    {
        ShiftAll<J - 1>::run(t, lo, hi);
        shift_add<J - 1>(t[J - 1], lo, hi);
    }
};
template <>
struct ShiftAll<0>
{
    static inline void run(const V*, V&, V&) {}
};

// the partial feedback sums of input channel c (padded rows, fb) over the output
// channels o0 .. o1-1, from the kernel entries Kc = K + c*KH*KW (not yet updated)
inline void feedback_rows(const T* __restrict e, const T* __restrict Kc, int o0, int o1,
                          T* __restrict fb)
{
    for (int Y = 0; Y < HP; Y++)
    {
        const int i0 = Y - (HO - 1) > 0 ? Y - (HO - 1) : 0;
        const int i1 = Y < KH - 1 ? Y : KH - 1;
        V t[KW];
        for (int j = 0; j < KW; j++) t[j] = V{};
        for (int o = o0; o < o1; o++)
        {
            const T* __restrict ko = Kc + (size_t)o * C * KH * KW;
            const T* __restrict eo = e + (size_t)o * HO * WO;
            for (int i = i0; i <= i1; i++)
            {
                const V ev = loadu(eo + (Y - i) * WO);
                for (int j = 0; j < KW; j++) t[j] += ko[i * KW + j] * ev;
            }
        }
        V lo = V{}, hi = V{};
        ShiftAll<KW>::run(t, lo, hi);
        storeu(fb + Y * WPV, lo);
        storeu(fb + Y * WPV + VL, hi);
    }
}
#else
constexpr bool FBROWS = false;
inline void feedback_rows(const T*, const T*, int, int, T*) {}
#endif
#else
constexpr bool FBROWS = false;
inline void feedback_rows(const T*, const T*, int, int, T*) {}
constexpr bool VEC = false, ROWS1 = false;
inline void gradient_vec(const T*, const T*, const T*, T*, const T) {}
inline void gradient_rows1(const T*, const T*, const T*, T*, const T) {}
inline void forward_rows1(const T*, const T*, T*) {}
#endif

// the forward sums of the output rows y0 .. y0+R-1 (R rows at a time: R*WO
// independent sums in registers)
template <int R>
inline void forward_rows(int y0, const T* __restrict rp, const T* __restrict kv,
                         T* __restrict ff)
{
    T acc[R][WO];
    for (int r = 0; r < R; r++)
        for (int x = 0; x < WO; x++) acc[r][x] = ff[(y0 + r) * WO + x];
    for (int i = 0; i < KH; i++)
        for (int j = 0; j < KW; j++)
        {
            const T kk = kv[i * KW + j];
            for (int r = 0; r < R; r++)
            {
                const T* __restrict rr = rp + ((y0 + r) * SH + i) * WP + j;
                for (int x = 0; x < WO; x++) acc[r][x] += kk * rr[x * SW];
            }
        }
    for (int r = 0; r < R; r++)
        for (int x = 0; x < WO; x++) ff[(y0 + r) * WO + x] = acc[r][x];
}

// the gradients of the kernel entries (i, j0) .. (i, j0+J-1) (J at a time: one
// partial sum per output column and entry, then the columns folded pairwise) and
// their update
template <int J>
inline void gradient_columns(int i, int j0, const T* __restrict rp, const T* __restrict e,
                             const T* __restrict kv, T* __restrict k, const T rate)
{
    T lane[J][WO];
    for (int q = 0; q < J; q++)
        for (int x = 0; x < WO; x++) lane[q][x] = 0;
    for (int y = 0; y < HO; y++)
    {
        const T* __restrict rr = rp + (y * SH + i) * WP + j0;
        const T* __restrict er = e + y * WO;
        for (int q = 0; q < J; q++)
            for (int x = 0; x < WO; x++) lane[q][x] += er[x] * rr[x * SW + q];
    }
    for (int q = 0; q < J; q++)
    {
        for (int n = WO; n > 1; n = (n + 1) / 2)  // fold: lane[x] += lane[x + h]
            for (int x = 0; x < n / 2; x++) lane[q][x] += lane[q][x + (n + 1) / 2];
        k[i * KW + j0 + q] = kv[i * KW + j0 + q] + rate * lane[q][0];
    }
}

// One (output channel o, input channel c) pair, from the kernel entries k of (o, c)
// as they were at the start of the pass:
//   rp: the zero-padded input plane c (HP x WP); e: the error plane o (HO x WO);
//   es: the error plane o spread for the feedback (KW planes HO x WP: es[j][y][X] =
//       e[y][x] where X = x*SW + j, else 0); ff: the forward sums of o (HO x WO);
//   fb: this chunk's partial feedback sums of c (padded, HP x WP).
// Each sum is kept in locals (registers) over the kernel entries: the forward sum
// of an output row, the feedback sum of an input row, the gradient of an entry
// (one partial sum per output column x, then the columns folded pairwise).
template <bool FF, bool FB, bool GRAD>
inline void pair(const T* __restrict rp, const T* __restrict e, const T* __restrict es,
                 T* __restrict ff, T* __restrict fb, T* __restrict k, const T rate)
{
    T kv[KH * KW];
    for (int q = 0; q < KH * KW; q++) kv[q] = k[q];
    if (FF && ROWS1)
        forward_rows1(rp, kv, ff);
    else if (FF)
    {
        int y = 0;
        for (; y + RB <= HO; y += RB) forward_rows<RB>(y, rp, kv, ff);
        for (; y < HO; y++) forward_rows<1>(y, rp, kv, ff);
    }
    if (FB)
    {
#ifdef _CONV_VECTORS
        feedback_vec(es, fb, kv);
#else
        for (int y = 0; y < HO; y++)
            for (int i = 0; i < KH; i++)
                for (int j = 0; j < KW; j++)
                {
                    const T* __restrict er = es + (j * HO + y) * WPV;
                    T* __restrict fr = fb + (y * SH + i) * WPV;
                    for (int X = 0; X < WP; X++) fr[X] += kv[i * KW + j] * er[X];
                }
#endif
    }
    if (GRAD && ROWS1)
        gradient_rows1(rp, e, kv, k, rate);
    else if (GRAD && VEC)
        gradient_vec(rp, e, kv, k, rate);
    else if (GRAD)
        for (int i = 0; i < KH; i++)
        {
            int j = 0;
            for (; j + JB <= KW; j += JB) gradient_columns<JB>(i, j, rp, e, kv, k, rate);
            for (; j < KW; j++) gradient_columns<1>(i, j, rp, e, kv, k, rate);
        }
}

// the output channels of one chunk; es: its spread error planes; fb: its partial
// (padded) feedback sums
template <bool FF, bool FB, bool GRAD>
_CONV_NOINLINE void chunk(int ch, const T* __restrict rp, const T* __restrict e, T* __restrict es,
                  T* __restrict ff, T* __restrict fb, T* __restrict K, const T rate)
{
    const int o_end = std::min(O, (ch + 1) * CHUNK_O);
    if (FB && FBROWS)
    {
        // input channel by input channel: its feedback rows over the chunk's output
        // channels first (the kernel entries of (o, c) as they were at the start of the
        // pass), then each pair's forward sum and gradient (the forward sums of an
        // output channel still add their input channels in order c = 0, 1, ...)
        if (FF)
            for (int n = ch * CHUNK_O * HO * WO; n < o_end * HO * WO; n++) ff[n] = 0;
        for (int c = 0; c < C; c++)
        {
            feedback_rows(e, K + c * KH * KW, ch * CHUNK_O, o_end, fb + c * FBPLANE);
            for (int o = ch * CHUNK_O; o < o_end; o++)
                pair<FF, false, GRAD>(rp + c * PLANE, e + o * HO * WO, es, ff + o * HO * WO,
                                      fb, K + (o * C + c) * KH * KW, rate);
        }
        return;
    }
    if (FB)
        for (int n = 0; n < C * FBPLANE; n++) fb[n] = 0;
    for (int o = ch * CHUNK_O; o < o_end; o++)
    {
        const T* __restrict eo = e + o * HO * WO;
        if (FB)
        {
            for (int n = 0; n < KW * HO * WPV; n++) es[n] = 0;
            for (int j = 0; j < KW; j++)
                for (int y = 0; y < HO; y++)
                    for (int x = 0; x < WO; x++)
                        es[(j * HO + y) * WPV + x * SW + j] = eo[y * WO + x];
        }
        if (FF)
            for (int n = 0; n < HO * WO; n++) ff[o * HO * WO + n] = 0;
        for (int c = 0; c < C; c++)
            pair<FF, FB, GRAD>(rp + c * PLANE, eo, es, ff + o * HO * WO, fb + c * FBPLANE,
                               K + (o * C + c) * KH * KW, rate);
    }
}

// the zero-padded copy of the input (PH, PW > 0)
_CONV_NOINLINE void pad(const T* __restrict r, T* __restrict rp)
{
    for (int n = 0; n < C * PLANE; n++) rp[n] = 0;
    for (int c = 0; c < C; c++)
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++)
                rp[c * PLANE + (y + PH) * WP + x + PW] = r[(c * H + y) * W + x];
}

// the partial feedback sums of the chunks (padded planes), in chunk order, for the
// input channel c
_CONV_NOINLINE void reduce(const T* __restrict parts, T* __restrict fb, int c)
{
    for (int y = 0; y < H; y++)
    {
        T* __restrict out = fb + (c * H + y) * W;
        const T* __restrict in = parts + c * FBPLANE + (y + PH) * WPV + PW;
        for (int x = 0; x < W; x++) out[x] = in[x];
        for (int ch = 1; ch < CHUNKS; ch++)
            for (int x = 0; x < W; x++) out[x] += in[(size_t)ch * C * FBPLANE + x];
    }
}
}  // namespace _conv_{{codeobj_name}}
}  // namespace
{% endblock %}

{% macro _pass(ff, fb, grad) %}
{{openmp_pragma('parallel-static')}}
for (int _conv_chunk = 0; _conv_chunk < _conv::CHUNKS; _conv_chunk++)
{
    _conv::chunk<{{ff}}, {{fb}}, {{grad}}>(_conv_chunk, _conv_rp, _conv_e,
        _conv_es + (size_t)_conv_chunk * _conv::KW * _conv::HO * _conv::WPV, _conv_ff,
        _conv_parts + (size_t)_conv_chunk * _conv::C * _conv::FBPLANE, _conv_K, _conv_rate);
}
{% endmacro %}

{% block maincode %}
    //// MAIN CODE (le_brian conv, fused) ////////////
    namespace _conv = _conv_{{codeobj_name}};
    {% set _ff = 'true' if _g.forward else 'false' %}
    {% set _fb = 'true' if _g.feedback else 'false' %}
    const _conv::T* const _conv_r = {{get_array_name(variables['_conv_rate'])}} + {{_g.rate_start}};
    {% if _g.error %}
    const _conv::T* const _conv_e = {{get_array_name(variables['_conv_error'])}} + {{_g.error_start}};
    {% else %}
    const _conv::T* const _conv_e = NULL;
    {% endif %}
    {% if _g.forward %}
    _conv::T* const _conv_ff = {{get_array_name(variables['_conv_ff'])}} + {{_g.ff_start}};
    {% else %}
    _conv::T* const _conv_ff = NULL;
    {% endif %}
    _conv::T* const _conv_K = {{get_array_name(variables['_conv_w'])}} + {{_g.w_start}};
    {% if _g.feedback %}
    // scratch on 64-byte boundaries (whole vectors per row: measured +20 % on the
    // LeNet-5 conv2 projection against 16-byte-aligned storage)
    alignas(64) static _conv::T _conv_parts[(size_t)_conv::CHUNKS * _conv::C * _conv::FBPLANE];
    alignas(64) static _conv::T _conv_es[(size_t)_conv::CHUNKS * _conv::KW * _conv::HO * _conv::WPV];
    {% else %}
    _conv::T* const _conv_parts = NULL;
    _conv::T* const _conv_es = NULL;
    {% endif %}
    {% if _g.PH or _g.PW %}
    alignas(64) static _conv::T _conv_rp_store[(size_t)_conv::C * _conv::PLANE];
    _conv::pad(_conv_r, _conv_rp_store);
    const _conv::T* const _conv_rp = _conv_rp_store;
    {% else %}
    const _conv::T* const _conv_rp = _conv_r;
    {% endif %}
    {% if _g.plasticity %}
    const _conv::T _conv_rate = {{get_array_name(variables['dt'])}}[0] * {{get_array_name(variables['_conv_eta'])}}[0];
    if (_conv_rate == 0)
    {
        // le_brian conv: evaluation branch (learning rate 0): sums only, no kernel write
        {{ _pass(_ff, _fb, 'false')|autoindent }}
    }
    else
    {
        // le_brian conv: update branch
        {{ _pass(_ff, _fb, 'true')|autoindent }}
    }
    {% else %}
    const _conv::T _conv_rate = 0;
    {{ _pass(_ff, _fb, 'false') }}
    {% endif %}
    {% if _g.feedback %}
    // the partial feedback sums in chunk order (the same for any number of threads)
    _conv::T* const _conv_fb = {{get_array_name(variables['_conv_fb'])}} + {{_g.fb_start}};
    {{openmp_pragma('parallel-static')}}
    for (int _c = 0; _c < _conv::C; _c++)
        _conv::reduce(_conv_parts, _conv_fb, _c);
    {% endif %}
{% endblock %}
