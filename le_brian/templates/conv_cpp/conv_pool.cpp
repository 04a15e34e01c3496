{# USES_VARIABLES { N } #}
{# le_brian PoolPass (le_brian/engine/conv_aux.py), geometry baked in (no index arrays).
   Input (C, H, W), pooling units (C, HO, WO), window (KH, KW), stride (SH, SW),
   padding (PH, PW); window position (i, j) of unit (c, y, x) reads the input unit
   (c, y*SH + i - PH, x*SW + j - PW) where it lies inside the input.
   forward, max: r = the first largest rate in row-major window order (strict >),
       am = its input unit; avg: r = (the sum over the inside positions) / (KH*KW).
   route, max: I_fb of the input = 0, then I_fb[am] += the unit's I_fb;
       avg: I_fb of the input = 0, then += the unit's I_fb / (KH*KW) over its window.
   Serial, the same bits for any number of OpenMP threads. #}
{% extends 'common_group.cpp' %}
{% set _g = conv %}
{% set _t = c_data_type(variables['_pool_r' if _g.mode == 'forward' else '_pool_fb'].dtype) %}
{% set _max = _g.kind == 'max' %}
{% set _amt = c_data_type(variables['_pool_am'].dtype) if _max else 'int' %}

{% block extra_headers %}
namespace {
namespace _pool_{{codeobj_name}} {
typedef {{_t}} T;
typedef {{_amt}} A;
constexpr int C = {{_g.C}}, H = {{_g.H}}, W = {{_g.W}}, HO = {{_g.HO}}, WO = {{_g.WO}};
constexpr int KH = {{_g.KH}}, KW = {{_g.KW}}, SH = {{_g.SH}}, SW = {{_g.SW}};
constexpr int PH = {{_g.PH}}, PW = {{_g.PW}};
constexpr T AREA = KH * KW;

#if defined(__GNUC__)
__attribute__((noinline))
#endif
void forward(const T* __restrict in, T* __restrict r, A* __restrict am)
{
    for (int c = 0; c < C; c++)
        for (int y = 0; y < HO; y++)
            for (int x = 0; x < WO; x++)
            {
                const int n = (c * HO + y) * WO + x;
                {% if _max %}
                T best = 0;
                A arg = -1;
                {% else %}
                T sum = 0;
                {% endif %}
                for (int i = 0; i < KH; i++)
                {
                    const int yy = y * SH + i - PH;
                    if (yy < 0 || yy >= H) continue;
                    for (int j = 0; j < KW; j++)
                    {
                        const int xx = x * SW + j - PW;
                        if (xx < 0 || xx >= W) continue;
                        const int m = (c * H + yy) * W + xx;
                        {% if _max %}
                        if (arg < 0 || in[m] > best) { best = in[m]; arg = m; }
                        {% else %}
                        sum += in[m];
                        {% endif %}
                    }
                }
                {% if _max %}
                r[n] = best;
                am[n] = arg;
                {% else %}
                r[n] = sum / AREA;
                {% endif %}
            }
}

#if defined(__GNUC__)
__attribute__((noinline))
#endif
void route(const T* __restrict fb, const A* __restrict am, T* __restrict fb_in)
{
    for (int m = 0; m < C * H * W; m++) fb_in[m] = 0;
    {% if _max %}
    for (int n = 0; n < C * HO * WO; n++) fb_in[am[n]] += fb[n];
    {% else %}
    for (int c = 0; c < C; c++)
        for (int y = 0; y < HO; y++)
            for (int x = 0; x < WO; x++)
            {
                const T share = fb[(c * HO + y) * WO + x] / AREA;
                for (int i = 0; i < KH; i++)
                {
                    const int yy = y * SH + i - PH;
                    if (yy < 0 || yy >= H) continue;
                    for (int j = 0; j < KW; j++)
                    {
                        const int xx = x * SW + j - PW;
                        if (xx < 0 || xx >= W) continue;
                        fb_in[(c * H + yy) * W + xx] += share;
                    }
                }
            }
    {% endif %}
}
}  // namespace _pool_{{codeobj_name}}
}  // namespace
{% endblock %}

{% block maincode %}
    //// MAIN CODE (le_brian pooling, {{_g.mode}}) ////////////
    {% set _am = get_array_name(variables['_pool_am']) ~ ' + ' ~ _g.pool_start if _max else 'NULL' %}
    {% if _g.mode == 'forward' %}
    _pool_{{codeobj_name}}::forward({{get_array_name(variables['_pool_r_in'])}} + {{_g.below_start}},
        {{get_array_name(variables['_pool_r'])}} + {{_g.pool_start}}, {{_am}});
    {% else %}
    _pool_{{codeobj_name}}::route({{get_array_name(variables['_pool_fb'])}} + {{_g.pool_start}},
        {{_am}}, {{get_array_name(variables['_pool_fb_in'])}} + {{_g.below_start}});
    {% endif %}
{% endblock %}
