{# USES_VARIABLES { N } #}
{# le_brian ChannelSum on the GPU (le_brian/engine/conv_aux.py): one thread per channel
   o sums the positions of channel o of src in row-major order (deterministic, no
   atomics). Compile-tested only. #}
{% extends 'common_group.cu' %}
{% set _g = conv %}
{% set _t = c_data_type(variables['_cs_dst'].dtype) %}

{% block kernel %}
{% endblock kernel %}

{% block extra_kernel_definitions %}
// le_brian channel sum: one thread per channel
__global__ void _channel_sum_{{codeobj_name}}(const {{_t}}* src, {{_t}}* dst)
{
    const int o = blockIdx.x * blockDim.x + threadIdx.x;
    if (o >= {{_g.n}}) return;
    {{_t}} sum = 0;
    for (int p = 0; p < {{_g.positions}}; p++) sum += src[(size_t)o * {{_g.positions}} + p];
    dst[o] = sum;
}
{% endblock extra_kernel_definitions %}

{% block define_N %}
{% endblock %}

{% block prepare_kernel %}
{% endblock prepare_kernel %}

{% block kernel_call %}
    _channel_sum_{{codeobj_name}}<<<{{(_g.n + 127) // 128}}, 128>>>(
        {{get_array_name(variables['_cs_src'], prefix='dev')}} + {{_g.src_start}},
        {{get_array_name(variables['_cs_dst'], prefix='dev')}} + {{_g.dst_start}});
    CUDA_CHECK_ERROR("_channel_sum_{{codeobj_name}}");
{% endblock kernel_call %}
