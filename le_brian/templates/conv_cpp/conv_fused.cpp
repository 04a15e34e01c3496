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
// Brian2 compiles with -ffast-math; its reassociation would let the compiler add a
// sum's terms in an order that depends on how this code is inlined and vectorised
// (it differed between the builds with and without OpenMP). The pass keeps its
// order: every loop below vectorises without reassociation (the gradient sums per
// output column, then over the columns).
#if defined(__clang__)
#define _CONV_ORDERED _Pragma("clang fp reassociate(off)")
#else
#define _CONV_ORDERED
#pragma GCC push_options
#pragma GCC optimize("no-associative-math")
#endif
namespace {
namespace _conv_{{codeobj_name}} {
typedef {{_t}} T;
constexpr int C = {{_g.C}}, H = {{_g.H}}, W = {{_g.W}};
constexpr int O = {{_g.O}}, HO = {{_g.HO}}, WO = {{_g.WO}};
constexpr int KH = {{_g.KH}}, KW = {{_g.KW}}, SH = {{_g.SH}}, SW = {{_g.SW}};
constexpr int PH = {{_g.PH}}, PW = {{_g.PW}};
constexpr int CHUNKS = {{_g.chunks}}, CHUNK_O = {{_g.chunk_o}};

// floor(a / b) for b > 0
constexpr int floordiv(int a, int b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
// the output rows / columns whose input row / column (out*s + i - p) lies in [0, n)
constexpr int lo(int i, int s, int p)
{ return floordiv(p - i + s - 1, s) > 0 ? floordiv(p - i + s - 1, s) : 0; }
constexpr int hi(int i, int s, int p, int n, int n_out)
{ return floordiv(n - 1 + p - i, s) + 1 < n_out ? floordiv(n - 1 + p - i, s) + 1 : n_out; }

// one (output channel, input channel) pair: r, fb planes of input channel c; e, ff
// planes of output channel o; k its KH*KW kernel entries
template <bool FF, bool FB, bool GRAD>
inline void pair(const T* __restrict r, const T* __restrict e, T* __restrict ff,
                 T* __restrict fb, T* __restrict k, const T rate)
{
    _CONV_ORDERED
    for (int i = 0; i < KH; i++)
    {
        const int y_lo = lo(i, SH, PH), y_hi = hi(i, SH, PH, H, HO);
        for (int j = 0; j < KW; j++)
        {
            const int x_lo = lo(j, SW, PW), x_hi = hi(j, SW, PW, W, WO);
            const T kv = k[i * KW + j];
            T lane[WO];  // the gradient's terms summed per output column x
            for (int x = 0; x < WO; x++) lane[x] = 0;
            for (int y = y_lo; y < y_hi; y++)
            {
                const int yy = y * SH + i - PH;
                const T* __restrict rr = r + yy * W + j - PW;
                const T* __restrict er = e + y * WO;
                T* __restrict fr = ff + y * WO;
                T* __restrict br = fb + yy * W + j - PW;
                for (int x = x_lo; x < x_hi; x++)
                {
                    const T rv = rr[x * SW];
                    const T ev = er[x];
                    if (FF) fr[x] += kv * rv;
                    if (FB) br[x * SW] += kv * ev;
                    if (GRAD) lane[x] += ev * rv;
                }
            }
            if (GRAD)
            {
                T grad = 0;
                for (int x = x_lo; x < x_hi; x++) grad += lane[x];
                k[i * KW + j] = kv + rate * grad;
            }
        }
    }
}

// the output channels of one chunk; fb: this chunk's partial feedback sum
template <bool FF, bool FB, bool GRAD>
inline void chunk(int ch, const T* __restrict r, const T* __restrict e, T* __restrict ff,
                  T* __restrict fb, T* __restrict K, const T rate)
{
    _CONV_ORDERED
    const int o_end = std::min(O, (ch + 1) * CHUNK_O);
    if (FB)
        for (int n = 0; n < C * H * W; n++) fb[n] = 0;
    for (int o = ch * CHUNK_O; o < o_end; o++)
    {
        if (FF)
            for (int n = 0; n < HO * WO; n++) ff[o * HO * WO + n] = 0;
        for (int c = 0; c < C; c++)
            pair<FF, FB, GRAD>(r + c * H * W, e + o * HO * WO, ff + o * HO * WO,
                               fb + c * H * W, K + (o * C + c) * KH * KW, rate);
    }
}

// the partial feedback sums of the chunks, in chunk order, for the inputs n0..n1-1
inline void reduce(const T* __restrict parts, T* __restrict fb, int n0, int n1)
{
    _CONV_ORDERED
    for (int n = n0; n < n1; n++) fb[n] = parts[n];
    for (int ch = 1; ch < CHUNKS; ch++)
        for (int n = n0; n < n1; n++) fb[n] += parts[(size_t)ch * C * H * W + n];
}
}  // namespace _conv_{{codeobj_name}}
}  // namespace
#if !defined(__clang__)
#pragma GCC pop_options
#endif
{% endblock %}

{% macro _pass(ff, fb, grad) %}
{{openmp_pragma('parallel-static')}}
for (int _conv_chunk = 0; _conv_chunk < _conv::CHUNKS; _conv_chunk++)
{
    _conv::chunk<{{ff}}, {{fb}}, {{grad}}>(_conv_chunk, _conv_r, _conv_e, _conv_ff,
        _conv_parts + (size_t)_conv_chunk * _conv::C * _conv::H * _conv::W, _conv_K, _conv_rate);
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
    static std::vector<_conv::T> _conv_parts_store((size_t)_conv::CHUNKS * _conv::C * _conv::H * _conv::W);
    _conv::T* const _conv_parts = _conv_parts_store.data();
    {% else %}
    _conv::T* const _conv_parts = NULL;
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
    // (blocks of 256 inputs per thread)
    {{openmp_pragma('parallel-static')}}
    for (int _n0 = 0; _n0 < _conv::C * _conv::H * _conv::W; _n0 += 256)
        _conv::reduce(_conv_parts, _conv_fb, _n0, std::min(_n0 + 256, _conv::C * _conv::H * _conv::W));
    {% endif %}
{% endblock %}
