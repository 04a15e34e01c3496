{# USES_VARIABLES { N } #}
{# le_brian PoolPass on the GPU (le_brian/engine/conv_aux.py; conv_cpp/conv_pool.cpp
   says what it computes). forward: one thread per pooling unit; route: one thread per
   input unit, summing (in row-major order of the pooling units) what the windows that
   contain it hand down (max: where it is the arg-max). No atomics. Compile-tested
   only. #}
{% extends 'common_group.cu' %}
{% set _g = conv %}
{% set _t = c_data_type(variables['_pool_r' if _g.mode == 'forward' else '_pool_fb'].dtype) %}
{% set _max = _g.kind == 'max' %}
{% set _amt = c_data_type(variables['_pool_am'].dtype) if _max else 'int' %}
{% set _n_in = _g.C * _g.H * _g.W %}
{% set _n_out = _g.C * _g.HO * _g.WO %}

{% block kernel %}
{% endblock kernel %}

{% block extra_kernel_definitions %}
{% if _g.mode == 'forward' %}
// le_brian pooling, forward: one thread per pooling unit
__global__ void _pool_{{codeobj_name}}(const {{_t}}* in, {{_t}}* r, {{_amt}}* am)
{
    const int n = blockIdx.x * blockDim.x + threadIdx.x;
    if (n >= {{_n_out}}) return;
    const int c = n / {{_g.HO * _g.WO}}, y = (n / {{_g.WO}}) % {{_g.HO}}, x = n % {{_g.WO}};
    {{_t}} acc = 0;
    {{_amt}} arg = -1;
    for (int i = 0; i < {{_g.KH}}; i++)
    {
        const int yy = y * {{_g.SH}} + i - {{_g.PH}};
        if (yy < 0 || yy >= {{_g.H}}) continue;
        for (int j = 0; j < {{_g.KW}}; j++)
        {
            const int xx = x * {{_g.SW}} + j - {{_g.PW}};
            if (xx < 0 || xx >= {{_g.W}}) continue;
            const int m = (c * {{_g.H}} + yy) * {{_g.W}} + xx;
            {% if _max %}
            if (arg < 0 || in[m] > acc) { acc = in[m]; arg = m; }
            {% else %}
            acc += in[m];
            {% endif %}
        }
    }
    {% if _max %}
    r[n] = acc;
    am[n] = arg;
    {% else %}
    r[n] = acc / ({{_t}})({{_g.KH * _g.KW}});
    {% endif %}
}
{% else %}
// le_brian pooling, error routing: one thread per input unit
__global__ void _pool_{{codeobj_name}}(const {{_t}}* fb, const {{_amt}}* am, {{_t}}* fb_in)
{
    const int m = blockIdx.x * blockDim.x + threadIdx.x;
    if (m >= {{_n_in}}) return;
    const int c = m / {{_g.H * _g.W}}, yy = (m / {{_g.W}}) % {{_g.H}}, xx = m % {{_g.W}};
    {{_t}} sum = 0;
    for (int y = 0; y < {{_g.HO}}; y++)
    {
        const int i = yy + {{_g.PH}} - y * {{_g.SH}};
        if (i < 0 || i >= {{_g.KH}}) continue;
        for (int x = 0; x < {{_g.WO}}; x++)
        {
            const int j = xx + {{_g.PW}} - x * {{_g.SW}};
            if (j < 0 || j >= {{_g.KW}}) continue;
            const int n = (c * {{_g.HO}} + y) * {{_g.WO}} + x;
            {% if _max %}
            if (am[n] == m) sum += fb[n];
            {% else %}
            sum += fb[n] / ({{_t}})({{_g.KH * _g.KW}});
            {% endif %}
        }
    }
    fb_in[m] = sum;
}
{% endif %}
{% endblock extra_kernel_definitions %}

{% block define_N %}
{% endblock %}

{% block prepare_kernel %}
{% endblock prepare_kernel %}

{% block kernel_call %}
    {% set _am = get_array_name(variables['_pool_am'], prefix='dev') ~ ' + ' ~ _g.pool_start if _max else 'NULL' %}
    {% if _g.mode == 'forward' %}
    _pool_{{codeobj_name}}<<<{{(_n_out + 127) // 128}}, 128>>>(
        {{get_array_name(variables['_pool_r_in'], prefix='dev')}} + {{_g.below_start}},
        {{get_array_name(variables['_pool_r'], prefix='dev')}} + {{_g.pool_start}}, {{_am}});
    {% else %}
    _pool_{{codeobj_name}}<<<{{(_n_in + 127) // 128}}, 128>>>(
        {{get_array_name(variables['_pool_fb'], prefix='dev')}} + {{_g.pool_start}}, {{_am}},
        {{get_array_name(variables['_pool_fb_in'], prefix='dev')}} + {{_g.below_start}});
    {% endif %}
    CUDA_CHECK_ERROR("_pool_{{codeobj_name}}");
{% endblock kernel_call %}
