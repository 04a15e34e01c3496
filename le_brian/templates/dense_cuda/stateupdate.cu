{# USES_VARIABLES { N } #}
{# ALLOWS_SCALAR_WRITE #}
{# le_brian DenseSynapses: state update of an all-to-all projection on the GPU, one
   thread per synapse k = pre * N_post + post (the layout of connect()); the generator
   defines _presynaptic_idx / _postsynaptic_idx from _dense_pre / _dense_post instead
   of reading Brian2's index arrays. #}
{% extends 'common_group.cu' %}

{% block host_maincode %}
    // le_brian: refuse anything but the all-to-all layout of connect()
    if ({{constant_or_scalar('N', variables['N'])}} != {{dense_n_pre}} * {{dense_n_post}})
    {
        printf("ERROR le_brian DenseSynapses '{{owner.name}}': not the all-to-all layout of "
               "connect(): %d synapses, expected "
               "N_pre*N_post = {{dense_n_pre}}*{{dense_n_post}} (only a single plain "
               "connect() is supported)\n", (int){{constant_or_scalar('N', variables['N'])}});
        exit(1);
    }
{% endblock host_maincode %}

{% block after_return_N %}
    const int _dense_pre = _idx / {{dense_n_post}};
    const int _dense_post = _idx % {{dense_n_post}};
{% endblock %}
