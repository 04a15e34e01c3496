{# USES_VARIABLES { N } #}
{# le_brian DenseSynapses: summed variable of an all-to-all projection on the GPU,
   without atomics. Onto the postsynaptic group: one thread per postsynaptic neuron,
   summing over the presynaptic neurons (coalesced reads of w across the threads).
   Onto the presynaptic group: one warp per presynaptic neuron, lanes striding over
   the contiguous postsynaptic neurons, then a warp-shuffle reduction. #}
{% extends 'common_group.cu' %}

{% import 'dense_common.cu' as dense with context %}
{% block host_maincode %}
    {{ dense.dense_size_check()|autoindent }}
{% endblock host_maincode %}

{% set _onto_post = _index_var.name == '_synaptic_post' %}

{% block define_N %}
    {% if _onto_post %}
    const int _N = {{dense_n_post}};  // one thread per postsynaptic neuron
    {% else %}
    const int _N = {{dense_n_pre}} * 32;  // one warp per presynaptic neuron
    {% endif %}
{% endblock %}

{% block prepare_kernel %}
    // whole warps per block (the pre-sum reduces within warps)
    const int num_threads = 128;
    const int num_blocks = (_N + num_threads - 1) / num_threads;
{% endblock prepare_kernel %}

{% block kernel_maincode %}
    {% set _target_var_ptr = get_array_name(_target_var) %}
    ///// scalar_code /////
    {{scalar_code|autoindent}}

    {% if _onto_post %}
    const int _dense_post = _idx;
    {{c_data_type(_target_var.dtype)}} _dense_sum = 0;
    for (int _dense_pre = 0; _dense_pre < {{dense_n_pre}}; _dense_pre++)
    {
        const int _idx = _dense_pre * {{dense_n_post}} + _dense_post;
        const int _vectorisation_idx = _idx;
        ///// vector_code /////
        {{vector_code|autoindent}}
        _dense_sum += _synaptic_var;
    }
    {{_target_var_ptr}}[_dense_post + {{_target_start}}] = _dense_sum;
    {% else %}
    const int _dense_pre = _idx / 32;
    const int _dense_lane = _idx % 32;
    {{c_data_type(_target_var.dtype)}} _dense_sum = 0;
    for (int _dense_post = _dense_lane; _dense_post < {{dense_n_post}}; _dense_post += 32)
    {
        const int _idx = _dense_pre * {{dense_n_post}} + _dense_post;
        const int _vectorisation_idx = _idx;
        ///// vector_code /////
        {{vector_code|autoindent}}
        _dense_sum += _synaptic_var;
    }
    for (int _offset = 16; _offset > 0; _offset /= 2)
    {
        _dense_sum += __shfl_down_sync(0xffffffff, _dense_sum, _offset);
    }
    if (_dense_lane == 0)
    {
        {{_target_var_ptr}}[_dense_pre + {{_target_start}}] = _dense_sum;
    }
    {% endif %}
{% endblock kernel_maincode %}
