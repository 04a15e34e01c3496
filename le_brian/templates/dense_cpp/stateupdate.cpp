{# USES_VARIABLES { N, N_pre, N_post, _synaptic_pre, _synaptic_post } #}
{# ALLOWS_SCALAR_WRITE #}
{# le_brian DenseSynapses: state update of an all-to-all projection. The synapse
   index comes from the loop counters (pre-major, the layout of connect()), not from
   index arrays; the generator defines _presynaptic_idx / _postsynaptic_idx from
   _dense_pre / _dense_post. #}
{% extends 'common_group.cpp' %}
{% import 'dense_common.cpp' as dense with context %}

{% block maincode %}
    //// MAIN CODE (le_brian dense) ////////////
    {{ dense.dense_sizes()|autoindent }}
    {{ dense.dense_layout_check(dense_pre_start, dense_post_start)|autoindent }}
    // scalar code
    const size_t _vectorisation_idx = -1;
    {{scalar_code|autoindent}}

    {{openmp_pragma('parallel-static')}}
    for (int _dense_pre = 0; _dense_pre < _dense_n_pre; _dense_pre++)
    {
        for (int _dense_post = 0; _dense_post < _dense_n_post; _dense_post++)
        {
            const size_t _idx = (size_t)_dense_pre * _dense_n_post + _dense_post;
            // vector code
            const size_t _vectorisation_idx = _idx;
            {{vector_code|autoindent}}
        }
    }
{% endblock %}
