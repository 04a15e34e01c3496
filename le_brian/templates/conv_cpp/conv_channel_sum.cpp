{# USES_VARIABLES { N } #}
{# le_brian ChannelSum (le_brian/engine/conv_aux.py): dst[o] = the sum of the
   positions of channel o of src (row-major), e.g. a convolution's bias gradient
   from its error. Serial, the same bits for any number of OpenMP threads. #}
{% extends 'common_group.cpp' %}
{% set _g = conv %}
{% set _t = c_data_type(variables['_cs_dst'].dtype) %}

{% block extra_headers %}
namespace {
// not inlined: compiled once, the same with and without OpenMP (-ffast-math)
#if defined(__GNUC__)
__attribute__((noinline))
#endif
void _channel_sum_{{codeobj_name}}(const {{_t}}* __restrict src, {{_t}}* __restrict dst)
{
    for (int o = 0; o < {{_g.n}}; o++)
    {
        const {{_t}}* __restrict s = src + (size_t)o * {{_g.positions}};
        {{_t}} sum = 0;
        for (int p = 0; p < {{_g.positions}}; p++) sum += s[p];
        dst[o] = sum;
    }
}
}  // namespace
{% endblock %}

{% block maincode %}
    //// MAIN CODE (le_brian channel sum) ////////////
    _channel_sum_{{codeobj_name}}({{get_array_name(variables['_cs_src'])}} + {{_g.src_start}},
                                  {{get_array_name(variables['_cs_dst'])}} + {{_g.dst_start}});
{% endblock %}
