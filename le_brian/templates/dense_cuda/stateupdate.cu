{# USES_VARIABLES { N } #}
{# ALLOWS_SCALAR_WRITE #}
{# le_brian DenseSynapses: state update of an all-to-all projection on the GPU, one
   thread per synapse k = pre * N_post + post (the layout of connect()); the generator
   defines _presynaptic_idx / _postsynaptic_idx from _dense_pre / _dense_post instead
   of reading Brian2's index arrays. #}
{% extends 'common_group.cu' %}

{% import 'dense_common.cu' as dense with context %}
{% block host_maincode %}
    {{ dense.dense_size_check()|autoindent }}
{% endblock host_maincode %}

{% block after_return_N %}
    const int _dense_pre = _idx / {{dense_n_post}};
    const int _dense_post = _idx % {{dense_n_post}};
{% endblock %}
