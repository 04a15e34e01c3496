{# USES_VARIABLES { N } #}
{# ALLOWS_SCALAR_WRITE #}
{# le_brian FusedDenseUpdater on the GPU: one pass over the weights of an all-to-all
   projection (synapse k = pre * N_post + post), without atomics and deterministic.
   Thread (chunk c, post j) walks the presynaptic rows c*R .. c*R+R-1 of column j: per
   synapse the vector code evaluates the forward term, the feedback term (both on the
   weight before the update) and the state update. The forward terms of the chunk are
   summed in a register and stored in scratch[c][j]; the feedback terms of a row are
   reduced over the warp (32 consecutive postsynaptic neurons, warp shuffles) and
   stored in scratch[i][warp]. A second kernel then adds the partial sums in a fixed
   order: the forward sum of j over the chunks, the feedback sum of i over the warps.
   The postsynaptic axis is padded to whole warps; padding lanes touch no memory and
   add 0 to the shuffles.

   Evaluation branch: where the group has a learning rate (_dense_rate; code blocks
   'update' and 'eval' of FusedDenseUpdater.update_abstract_code), a run in which it is
   0 takes the 'eval' block in the kernel: the sums only, every weight read once and
   none written. The branch is taken by every thread alike (one shared value), and both
   blocks add the same terms in the same order. #}
{% extends 'common_group.cu' %}

{% import 'dense_common.cu' as dense with context %}

{% set _rows = 32 %}
{% set _n_pad = ((dense_n_post + 31) // 32) * 32 %}
{% set _n_chunks = (dense_n_pre + _rows - 1) // _rows %}
{% set _n_warps = _n_pad // 32 %}
{% set _ff_t = c_data_type(_ff_var.dtype) %}
{% set _fb_t = c_data_type(_fb_var.dtype) if _fb_var is not none else _ff_t %}
{% set _n_fb = dense_n_pre if _fb_var is not none else 0 %}

{% block extra_kernel_parameters %}
    {{_ff_t}}* _dense_scratch_ff,
    {{_fb_t}}* _dense_scratch_fb,
{% endblock %}

{% block extra_host_parameters %}
            _dense_scratch_ff,
            _dense_scratch_fb,
{% endblock %}

{% block define_N %}
    const int _N = {{_n_pad * _n_chunks}};  // (chunk of {{_rows}} rows, padded post) pairs
{% endblock %}

{% block host_maincode %}
    {{ dense.dense_size_check()|autoindent }}
    static {{_ff_t}}* _dense_scratch_ff = NULL;
    static {{_fb_t}}* _dense_scratch_fb = NULL;
    if (_dense_scratch_ff == NULL)
    {
        CUDA_SAFE_CALL(cudaMalloc((void**)&_dense_scratch_ff,
                                  sizeof({{_ff_t}}) * {{_n_chunks * dense_n_post}}));
        CUDA_SAFE_CALL(cudaMalloc((void**)&_dense_scratch_fb,
                                  sizeof({{_fb_t}}) * {{[dense_n_pre * _n_warps, 1]|max}}));
    }
{% endblock host_maincode %}

{% block prepare_kernel %}
    // whole warps per block (the feedback sums reduce within warps)
    const int num_threads = 128;
    const int num_blocks = (_N + num_threads - 1) / num_threads;
{% endblock prepare_kernel %}

{# the chunk's rows for one code block ('update' or 'eval') #}
{% macro _chunk_rows(block) %}
///// scalar_code['{{block}}'] /////
{{scalar_code[block]|autoindent}}
for (int _dense_pre = _dense_first; _dense_pre < _dense_last; _dense_pre++)
{
    {{_fb_t}} _dense_fb = 0;
    if (_dense_valid)
    {
        const int _idx = _dense_pre * {{dense_n_post}} + _dense_post;
        const int _vectorisation_idx = _idx;
        ///// vector_code['{{block}}'] /////
        {{vector_code[block]|autoindent}}
        _dense_ff += _synaptic_ff;
        {% if _fb_var is not none %}
        _dense_fb = _synaptic_fb;
        {% endif %}
    }
    {% if _fb_var is not none %}
    // every lane of the warp takes part (the loop bounds are the same for the warp)
    for (int _offset = 16; _offset > 0; _offset /= 2)
    {
        _dense_fb += __shfl_down_sync(0xffffffff, _dense_fb, _offset);
    }
    if (_dense_post % 32 == 0)
    {
        _dense_scratch_fb[_dense_pre * {{_n_warps}} + _dense_post / 32] = _dense_fb;
    }
    {% endif %}
}
{% endmacro %}

{% block kernel_maincode %}
    const int _dense_chunk = _idx / {{_n_pad}};
    const int _dense_post = _idx % {{_n_pad}};
    const bool _dense_valid = _dense_post < {{dense_n_post}};
    const int _dense_first = _dense_chunk * {{_rows}};
    const int _dense_last = min(_dense_first + {{_rows}}, {{dense_n_pre}});
    {{_ff_t}} _dense_ff = 0;
    {% if 'eval' in vector_code %}
    if ({{get_array_name(variables[_dense_rate], prefix='_ptr')}}[0] == 0)
    {
        // le_brian dense: evaluation branch ({{_dense_rate}} == 0): sums only, no weight written
        {{ _chunk_rows('eval') }}
    }
    else
    {
        // le_brian dense: update branch
        {{ _chunk_rows('update') }}
    }
    {% else %}
    {{ _chunk_rows('update') }}
    {% endif %}
    if (_dense_valid)
    {
        _dense_scratch_ff[_dense_chunk * {{dense_n_post}} + _dense_post] = _dense_ff;
    }
{% endblock kernel_maincode %}

{% block extra_kernel_definitions %}
// le_brian: the partial sums of _run_kernel_{{codeobj_name}}, added in a fixed order
__global__ void _dense_reduce_{{codeobj_name}}(
    {{_ff_t}}* _dense_ff_target, const {{_ff_t}}* _dense_scratch_ff,
    {{_fb_t}}* _dense_fb_target, const {{_fb_t}}* _dense_scratch_fb)
{
    const int _k = blockIdx.x * blockDim.x + threadIdx.x;
    if (_k < {{dense_n_post}})
    {
        {{_ff_t}} _sum = 0;
        for (int _c = 0; _c < {{_n_chunks}}; _c++)
        {
            _sum += _dense_scratch_ff[_c * {{dense_n_post}} + _k];
        }
        _dense_ff_target[_k] = _sum;
    }
    {% if _fb_var is not none %}
    else if (_k < {{dense_n_post + dense_n_pre}})
    {
        const int _i = _k - {{dense_n_post}};
        {{_fb_t}} _sum = 0;
        for (int _w = 0; _w < {{_n_warps}}; _w++)
        {
            _sum += _dense_scratch_fb[_i * {{_n_warps}} + _w];
        }
        _dense_fb_target[_i] = _sum;
    }
    {% endif %}
}
{% endblock extra_kernel_definitions %}

{% block extra_kernel_call_post %}
    _dense_reduce_{{codeobj_name}}<<<{{(dense_n_post + _n_fb + 127) // 128}}, 128>>>(
        {{get_array_name(_ff_var, prefix='dev')}} + {{_ff_start}}, _dense_scratch_ff,
        {% if _fb_var is not none %}
        {{get_array_name(_fb_var, prefix='dev')}} + {{_fb_start}}, _dense_scratch_fb
        {% else %}
        NULL, _dense_scratch_fb
        {% endif %}
        );
    CUDA_CHECK_ERROR("_dense_reduce_{{codeobj_name}}");
{% endblock extra_kernel_call_post %}
