{# USES_VARIABLES { N } #}
{# le_brian ConvProjection on the GPU (le_brian/engine/conv.py; the C++ template
   conv_cpp/conv_fused.cpp says what the pass computes). Three kernels, launched in
   order on the default stream, each reading the kernel of the start of the pass:
   forward (one thread per output unit (o, y, x): its sum over (c, i, j) in
   kernel-entry order), feedback (one thread per input unit (c, yy, xx): its sum over
   (o, i, j)) and the gradient and update (one thread per kernel entry: its sum over
   the output positions in row-major order, then K + dt*eta*g; no write where eta is
   0: the evaluation branch). No atomics: every sum is one thread's, in a fixed order
   (deterministic). Compile-tested only (no GPU has been available). #}
{% extends 'common_group.cu' %}
{% set _g = conv %}
{% set _t = c_data_type(variables['_conv_w'].dtype) %}
{% set _n_in = _g.C * _g.H * _g.W %}
{% set _n_out = _g.O * _g.HO * _g.WO %}
{% set _n_k = _g.O * _g.C * _g.KH * _g.KW %}

{% block kernel %}
{% endblock kernel %}

{% block extra_kernel_definitions %}
// le_brian conv: the forward sums, one thread per output unit
__global__ void _conv_forward_{{codeobj_name}}(const {{_t}}* r, const {{_t}}* K, {{_t}}* ff)
{
    const int n = blockIdx.x * blockDim.x + threadIdx.x;
    if (n >= {{_n_out}}) return;
    const int o = n / {{_g.HO * _g.WO}}, y = (n / {{_g.WO}}) % {{_g.HO}}, x = n % {{_g.WO}};
    {{_t}} sum = 0;
    for (int c = 0; c < {{_g.C}}; c++)
        for (int i = 0; i < {{_g.KH}}; i++)
        {
            const int yy = y * {{_g.SH}} + i - {{_g.PH}};
            if (yy < 0 || yy >= {{_g.H}}) continue;
            for (int j = 0; j < {{_g.KW}}; j++)
            {
                const int xx = x * {{_g.SW}} + j - {{_g.PW}};
                if (xx < 0 || xx >= {{_g.W}}) continue;
                sum += K[((o * {{_g.C}} + c) * {{_g.KH}} + i) * {{_g.KW}} + j]
                       * r[(c * {{_g.H}} + yy) * {{_g.W}} + xx];
            }
        }
    ff[n] = sum;
}

// le_brian conv: the feedback sums, one thread per input unit
__global__ void _conv_feedback_{{codeobj_name}}(const {{_t}}* e, const {{_t}}* K, {{_t}}* fb)
{
    const int n = blockIdx.x * blockDim.x + threadIdx.x;
    if (n >= {{_n_in}}) return;
    const int c = n / {{_g.H * _g.W}}, yy = (n / {{_g.W}}) % {{_g.H}}, xx = n % {{_g.W}};
    {{_t}} sum = 0;
    for (int o = 0; o < {{_g.O}}; o++)
        for (int i = 0; i < {{_g.KH}}; i++)
        {
            const int ys = yy + {{_g.PH}} - i;  // = y * SH
            if (ys < 0 || ys % {{_g.SH}} != 0 || ys / {{_g.SH}} >= {{_g.HO}}) continue;
            for (int j = 0; j < {{_g.KW}}; j++)
            {
                const int xs = xx + {{_g.PW}} - j;  // = x * SW
                if (xs < 0 || xs % {{_g.SW}} != 0 || xs / {{_g.SW}} >= {{_g.WO}}) continue;
                sum += K[((o * {{_g.C}} + c) * {{_g.KH}} + i) * {{_g.KW}} + j]
                       * e[(o * {{_g.HO}} + ys / {{_g.SH}}) * {{_g.WO}} + xs / {{_g.SW}}];
            }
        }
    fb[n] = sum;
}

// le_brian conv: the gradient and update, one thread per kernel entry (after the sums)
__global__ void _conv_learn_{{codeobj_name}}(const {{_t}}* r, const {{_t}}* e, {{_t}}* K,
                                            const {{_t}}* eta, const double dt)
{
    const int k = blockIdx.x * blockDim.x + threadIdx.x;
    if (k >= {{_n_k}} || eta[0] == 0) return;  // eta == 0: the evaluation branch
    const int j = k % {{_g.KW}}, i = (k / {{_g.KW}}) % {{_g.KH}};
    const int c = (k / {{_g.KH * _g.KW}}) % {{_g.C}}, o = k / {{_g.C * _g.KH * _g.KW}};
    {{_t}} g = 0;
    for (int y = 0; y < {{_g.HO}}; y++)
    {
        const int yy = y * {{_g.SH}} + i - {{_g.PH}};
        if (yy < 0 || yy >= {{_g.H}}) continue;
        for (int x = 0; x < {{_g.WO}}; x++)
        {
            const int xx = x * {{_g.SW}} + j - {{_g.PW}};
            if (xx < 0 || xx >= {{_g.W}}) continue;
            g += e[(o * {{_g.HO}} + y) * {{_g.WO}} + x] * r[(c * {{_g.H}} + yy) * {{_g.W}} + xx];
        }
    }
    K[k] = K[k] + ({{_t}})dt * eta[0] * g;
}
{% endblock extra_kernel_definitions %}

{% block define_N %}
{% endblock %}

{% block prepare_kernel %}
{% endblock prepare_kernel %}

{% block kernel_call %}
    {% set _w = get_array_name(variables['_conv_w'], prefix='dev') ~ ' + ' ~ _g.w_start %}
    {% set _r = get_array_name(variables['_conv_rate'], prefix='dev') ~ ' + ' ~ _g.rate_start %}
    {% if _g.forward %}
    _conv_forward_{{codeobj_name}}<<<{{(_n_out + 127) // 128}}, 128>>>(
        {{_r}}, {{_w}},
        {{get_array_name(variables['_conv_ff'], prefix='dev')}} + {{_g.ff_start}});
    CUDA_CHECK_ERROR("_conv_forward_{{codeobj_name}}");
    {% endif %}
    {% if _g.feedback %}
    _conv_feedback_{{codeobj_name}}<<<{{(_n_in + 127) // 128}}, 128>>>(
        {{get_array_name(variables['_conv_error'], prefix='dev')}} + {{_g.error_start}}, {{_w}},
        {{get_array_name(variables['_conv_fb'], prefix='dev')}} + {{_g.fb_start}});
    CUDA_CHECK_ERROR("_conv_feedback_{{codeobj_name}}");
    {% endif %}
    {% if _g.plasticity %}
    _conv_learn_{{codeobj_name}}<<<{{(_n_k + 127) // 128}}, 128>>>(
        {{_r}}, {{get_array_name(variables['_conv_error'], prefix='dev')}} + {{_g.error_start}},
        {{_w}}, {{get_array_name(variables['_conv_eta'], prefix='dev')}},
        {{get_array_name(variables['dt'], prefix='')}}[0]);
    CUDA_CHECK_ERROR("_conv_learn_{{codeobj_name}}");
    {% endif %}
{% endblock kernel_call %}
