{# USES_VARIABLES { N, N_pre, N_post, _synaptic_pre, _synaptic_post } #}
{# le_brian DenseSynapses: summed variable of an all-to-all projection, pre-major.
   Onto the postsynaptic group: zero the target, then for every presynaptic neuron
   an "axpy" over the contiguous postsynaptic neurons. Onto the presynaptic group:
   one dot product per presynaptic neuron. Both add the terms in synapse order, as
   Brian2's own template does. #}
{% extends 'common_group.cpp' %}
{% import 'dense_common.cpp' as dense with context %}

{% block maincode %}
    {% set _target_var_array = get_array_name(_target_var) %}
    //// MAIN CODE (le_brian dense) ////////////
    {{ dense.dense_sizes()|autoindent }}
    {{ dense.dense_layout_check(dense_pre_start, dense_post_start)|autoindent }}
    // scalar code
    const size_t _vectorisation_idx = -1;
    {{scalar_code|autoindent}}

    {% if _index_var.name == '_synaptic_post' %}
    for (int _dense_post = 0; _dense_post < _dense_n_post; _dense_post++)
    {
        {{_target_var_array}}[_dense_post + {{_target_start}}] = 0;
    }
    for (int _dense_pre = 0; _dense_pre < _dense_n_pre; _dense_pre++)
    {
        for (int _dense_post = 0; _dense_post < _dense_n_post; _dense_post++)
        {
            const size_t _idx = (size_t)_dense_pre * _dense_n_post + _dense_post;
            // vector code
            const size_t _vectorisation_idx = _idx;
            {{vector_code|autoindent}}
            {{_target_var_array}}[_dense_post + {{_target_start}}] += _synaptic_var;
        }
    }
    {% else %}
    {{openmp_pragma('parallel-static')}}
    for (int _dense_pre = 0; _dense_pre < _dense_n_pre; _dense_pre++)
    {
        {{c_data_type(_target_var.dtype)}} _dense_sum = 0;
        for (int _dense_post = 0; _dense_post < _dense_n_post; _dense_post++)
        {
            const size_t _idx = (size_t)_dense_pre * _dense_n_post + _dense_post;
            // vector code
            const size_t _vectorisation_idx = _idx;
            {{vector_code|autoindent}}
            _dense_sum += _synaptic_var;
        }
        {{_target_var_array}}[_dense_pre + {{_target_start}}] = _dense_sum;
    }
    {% endif %}
{% endblock %}
