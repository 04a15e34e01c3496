{# Macros shared by the dense C++ templates of le_brian (DenseSynapses). #}
{% macro dense_sizes() %}
const int _dense_n_pre = {{constant_or_scalar('N_pre', variables['N_pre'])}};
const int _dense_n_post = {{constant_or_scalar('N_post', variables['N_post'])}};
{% endmacro %}

{% macro dense_layout_check(pre_start, post_start) %}
{# One-time check (first call) that the synapses are a plain all-to-all connect()
   in pre-major order: synapse k = pre * N_post + post. #}
{% set _pre_array = get_array_name(variables['_synaptic_pre']) %}
{% set _post_array = get_array_name(variables['_synaptic_post']) %}
static bool _dense_layout_checked = false;
if (!_dense_layout_checked)
{
    const size_t _dense_n_syn = {{constant_or_scalar('N', variables['N'])}};
    if (_dense_n_syn != (size_t)_dense_n_pre * (size_t)_dense_n_post)
    {
        printf("ERROR le_brian DenseSynapses '{{owner.name}}': not the all-to-all layout of "
                "connect(): %zu synapses, expected "
                "N_pre*N_post = %d*%d (only a single plain connect() is supported)\n",
                _dense_n_syn, _dense_n_pre, _dense_n_post);
        exit(1);
    }
    for (size_t _k = 0; _k < _dense_n_syn; _k++)
    {
        if ({{_pre_array}}[_k] != (int32_t)(_k / _dense_n_post) + {{pre_start}} ||
            {{_post_array}}[_k] != (int32_t)(_k % _dense_n_post) + {{post_start}})
        {
            printf("ERROR le_brian DenseSynapses '{{owner.name}}': synapse %zu is not in "
                    "the pre-major all-to-all layout of connect()\n", _k);
            exit(1);
        }
    }
    _dense_layout_checked = true;
}
{% endmacro %}
