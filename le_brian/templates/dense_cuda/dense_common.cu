{# Macros shared by the dense CUDA templates of le_brian (DenseSynapses). #}
{% macro dense_size_check() %}
// le_brian: refuse anything but the all-to-all layout of connect()
if ({{constant_or_scalar('N', variables['N'])}} != {{dense_n_pre}} * {{dense_n_post}})
{
    printf("ERROR le_brian DenseSynapses '{{owner.name}}': not the all-to-all layout of "
           "connect(): %d synapses, expected "
           "N_pre*N_post = {{dense_n_pre}}*{{dense_n_post}} (only a single plain "
           "connect() is supported)\n", (int){{constant_or_scalar('N', variables['N'])}});
    exit(1);
}
{% endmacro %}
