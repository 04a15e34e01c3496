{# USES_VARIABLES { N, N_pre, N_post, _synaptic_pre, _synaptic_post } #}
{# ALLOWS_SCALAR_WRITE #}
{# le_brian FusedDenseUpdater: one pass over the weights of an all-to-all projection
   (pre-major, synapse k = pre * N_post + post). Per synapse the vector code evaluates
   the forward term (_synaptic_ff), the feedback term (_synaptic_fb), both on the weight
   loaded before the update, and then the state update, which writes the weight once.
   Presynaptic neurons are taken dense_rows at a time: for each postsynaptic neuron the
   forward sum stays in a register across those rows (one load and one store of the
   target per dense_rows synapses) and each row keeps its own feedback accumulator.
   Both sums still add their terms in synapse order (forward: over pre for each post;
   feedback: over post for each pre), as the separate dense templates do. The rows'
   presynaptic values (e.g. r_pre) are loaded into locals before the loop over the
   postsynaptic neurons, the postsynaptic ones (e.g. eps_post) before the rows of each
   postsynaptic neuron (_DenseIndexMixin reads them from there).

   Code blocks (FusedDenseUpdater.update_abstract_code): 'update' (the sums and, with
   plasticity, the state update) and, where the group has a learning rate
   (_dense_rate), 'eval' (the sums only): a run in which the rate is 0 takes the
   evaluation branch, which reads every weight once and writes none.

   Threads (OpenMP): the presynaptic rows are cut into _dense_n_chunks chunks of whole
   blocks, a number that depends on N_pre only (DENSE_CHUNKS at most); threads take
   chunks (static schedule). Each chunk sums its forward terms into its own partial
   vector (in synapse order within the chunk), and the partials are added in chunk
   order afterwards, so the result is the same for any number of threads >= 1 (it
   differs from the one-thread loop, which adds over all rows in one sequence, by
   rounding). A row's feedback sum and its weights' update belong to one chunk. #}
{% extends 'common_group.cpp' %}
{% import 'dense_common.cpp' as dense with context %}

{# neuron variables loaded into locals: every presynaptic (once per row) and
   postsynaptic (once per postsynaptic neuron) array variable of the code object, a
   superset of those the generator reads from these locals (_DenseIndexMixin); unused
   ones cost nothing. Synaptic array variables (the weights; not the index arrays):
   halfway through a block the first dense_prefetch_lines cache lines of each row of
   the next block are prefetched. The hardware prefetcher follows each row once it has
   seen a few misses, but every block starts dense_rows new streams; measured on
   784-300-100-10 (AMD EPYC, L3-resident input weights): +7-10 % for the input
   projection, 1-4 lines alike. #}
{% set _hoisted = [] %}
{% set _hoisted_post = [] %}
{% set _prefetched = [] %}
{% for _name, _var in variables.items()|sort %}
{% if _var.__class__.__name__ in ('ArrayVariable', 'DynamicArrayVariable') %}
{% if variable_indices[_name] == '_idx' and not _name.startswith('_') %}
{% set _ = _prefetched.append(_name) %}
{% elif variable_indices[_name] == '_presynaptic_idx' %}
{% set _ = _hoisted.append(_name) %}
{% elif variable_indices[_name] == '_postsynaptic_idx' %}
{% set _ = _hoisted_post.append(_name) %}
{% endif %}
{% endif %}
{% endfor %}

{# ff, ff_off: where the forward sums accumulate (ff[_dense_post + ff_off]) #}
{% macro _post_loop(block, n_rows, first, begin, end, ff, ff_off) %}
for (int _dense_post = {{begin}}; _dense_post < {{end}}; _dense_post++)
{
    {{c_data_type(_ff_var.dtype)}} _dense_ff = {{ff}}[_dense_post + {{ff_off}}];
    {% for _name in _hoisted_post %}
    const {{c_data_type(variables[_name].dtype)}} _dense_hoisted_{{_name}} = {{get_array_name(variables[_name])}}[_dense_post + {{dense_post_start}}];
    {% endfor %}
    {% for _row in range(n_rows) %}
    {
        const int _dense_pre = {{first}} + {{_row}};
        {% for _name in _hoisted %}
        const {{c_data_type(variables[_name].dtype)}} _dense_hoisted_{{_name}} = _dense_hoist_{{_row}}_{{_name}};
        {% endfor %}
        const size_t _idx = (size_t)_dense_pre * _dense_n_post + _dense_post;
        // vector code
        const size_t _vectorisation_idx = _idx;
        {{vector_code[block]|autoindent}}
        _dense_ff += _synaptic_ff;
        {% if _fb_var is not none %}
        _dense_fb_{{_row}} += _synaptic_fb;
        {% endif %}
    }
    {% endfor %}
    {{ff}}[_dense_post + {{ff_off}}] = _dense_ff;
}
{% endmacro %}

{# rows first .. first + n_rows - 1; last: the end of the rows this loop may prefetch #}
{% macro _row_block(block, n_rows, first, last, ff, ff_off) %}
{% for _row in range(n_rows) %}
{% for _name in _hoisted %}
const {{c_data_type(variables[_name].dtype)}} _dense_hoist_{{_row}}_{{_name}} = {{get_array_name(variables[_name])}}[{{first}} + {{_row}} + {{dense_pre_start}}];
{% endfor %}
{% endfor %}
{% if n_rows > 1 and dense_prefetch_lines > 0 and _prefetched %}
{# measured on the 784x300 projection (AMD EPYC): a split at _dense_n_post / 2 instead
   ran 11 % slower in float32 and 4-8 % faster in float64; other places (n/4, n/3, 3n/4,
   the block's start) were slower in float64 #}
// split at a multiple of 16 neurons: whole vectors on either side
const int _dense_post_half = _dense_n_post / 32 * 16;
{{ _post_loop(block, n_rows, first, '0', '_dense_post_half', ff, ff_off) }}
// the first lines of the next block's rows: their streams start cold (GCC / Clang;
// for reading only in the evaluation branch)
#if defined(__GNUC__)
for (int _dense_row = {{first}} + {{n_rows}}; _dense_row < {{first}} + {{2 * n_rows}} && _dense_row < {{last}}; _dense_row++)
{
    {% for _name in _prefetched %}
    {
        const char* _dense_line = (const char*)({{get_array_name(variables[_name])}} + (size_t)_dense_row * _dense_n_post);
        for (int _dense_l = 0; _dense_l < {{dense_prefetch_lines}}; _dense_l++)
            __builtin_prefetch(_dense_line + 64 * _dense_l, {{0 if block == 'eval' else 1}}, 3);
    }
    {% endfor %}
}
#endif
{{ _post_loop(block, n_rows, first, '_dense_post_half', '_dense_n_post', ff, ff_off) }}
{% else %}
{{ _post_loop(block, n_rows, first, '0', '_dense_n_post', ff, ff_off) }}
{% endif %}
{% endmacro %}

{% macro _row_sums(n_rows, first, action) %}
{% if _fb_var is not none %}
{% for _row in range(n_rows) %}
{% if action == 'declare' %}
{{c_data_type(_fb_var.dtype)}} _dense_fb_{{_row}} = 0;
{% else %}
{{get_array_name(_fb_var)}}[{{first}} + {{_row}} + {{_fb_start}}] = _dense_fb_{{_row}};
{% endif %}
{% endfor %}
{% endif %}
{% endmacro %}

{# the rows begin .. end - 1: blocks of dense_rows, then one row at a time #}
{% macro _rows(block, begin, end, ff, ff_off) %}
const int _dense_n_blocked = {{end}} - ({{end}} - {{begin}}) % {{dense_rows}};
for (int _dense_first = {{begin}}; _dense_first < _dense_n_blocked; _dense_first += {{dense_rows}})
{
    {{ _row_sums(dense_rows, '_dense_first', 'declare') }}
    {{ _row_block(block, dense_rows, '_dense_first', end, ff, ff_off) }}
    {{ _row_sums(dense_rows, '_dense_first', 'store') }}
}
for (int _dense_first = _dense_n_blocked; _dense_first < {{end}}; _dense_first++)
{
    {{ _row_sums(1, '_dense_first', 'declare') }}
    {{ _row_block(block, 1, '_dense_first', end, ff, ff_off) }}
    {{ _row_sums(1, '_dense_first', 'store') }}
}
{% endmacro %}

{# one code block ('update' or 'eval') over all synapses #}
{% macro _pass(block) %}
{% set _ff_array = get_array_name(_ff_var) %}
// scalar code
const size_t _vectorisation_idx = -1;
{{scalar_code[block]|autoindent}}
{% if openmp_pragma('with_openmp') %}
{{openmp_pragma('parallel')}}
{
    {{openmp_pragma('static')}}
    for (int _dense_chunk = 0; _dense_chunk < _dense_n_chunks; _dense_chunk++)
    {
        {{c_data_type(_ff_var.dtype)}}* const _dense_part = _dense_parts + (size_t)_dense_chunk * _dense_part_stride;
        for (int _dense_post = 0; _dense_post < _dense_n_post; _dense_post++)
            _dense_part[_dense_post] = 0;
        const int _dense_begin = _dense_chunk * _dense_chunk_rows;
        const int _dense_end = std::min(_dense_begin + _dense_chunk_rows, _dense_n_pre);
        {{ _rows(block, '_dense_begin', '_dense_end', '_dense_part', '0') }}
    }
    // the partial forward sums in chunk order (the same for any number of threads)
    {{openmp_pragma('static')}}
    for (int _dense_post = 0; _dense_post < _dense_n_post; _dense_post++)
    {
        {{c_data_type(_ff_var.dtype)}} _dense_ff = _dense_parts[_dense_post];
        for (int _dense_chunk = 1; _dense_chunk < _dense_n_chunks; _dense_chunk++)
            _dense_ff += _dense_parts[(size_t)_dense_chunk * _dense_part_stride + _dense_post];
        {{_ff_array}}[_dense_post + {{_ff_start}}] = _dense_ff;
    }
}
{% else %}
for (int _dense_post = 0; _dense_post < _dense_n_post; _dense_post++)
{
    {{_ff_array}}[_dense_post + {{_ff_start}}] = 0;
}
{{ _rows(block, '0', '_dense_n_pre', _ff_array, _ff_start) }}
{% endif %}
{% endmacro %}

{% block maincode %}
    //// MAIN CODE (le_brian dense, fused) ////////////
    {{ dense.dense_sizes()|autoindent }}
    {{ dense.dense_layout_check(dense_pre_start, dense_post_start)|autoindent }}
    {% if openmp_pragma('with_openmp') %}
    // chunks of whole blocks of rows, at most {{dense_chunks}}: a function of N_pre only
    const int _dense_chunk_rows = std::max({{dense_rows}}, (_dense_n_pre + {{dense_chunks * dense_rows}} - 1) / {{dense_chunks * dense_rows}} * {{dense_rows}});
    const int _dense_n_chunks = (_dense_n_pre + _dense_chunk_rows - 1) / _dense_chunk_rows;
    // each chunk's partial forward sums on whole 64-byte lines of their own, from a
    // line boundary on: threads write no line that another thread writes
    const size_t _dense_part_stride = ((size_t)_dense_n_post * sizeof({{c_data_type(_ff_var.dtype)}}) + 63) / 64 * 64 / sizeof({{c_data_type(_ff_var.dtype)}});
    static std::vector<{{c_data_type(_ff_var.dtype)}}> _dense_parts_store;
    _dense_parts_store.resize((size_t)_dense_n_chunks * _dense_part_stride + 64 / sizeof({{c_data_type(_ff_var.dtype)}}));
    {{c_data_type(_ff_var.dtype)}}* const _dense_parts = ({{c_data_type(_ff_var.dtype)}}*)(((uintptr_t)_dense_parts_store.data() + 63) / 64 * 64);
    {% endif %}
    {% if 'eval' in vector_code %}
    if ({{get_array_name(variables[_dense_rate])}}[0] == 0)
    {
        // le_brian dense: evaluation branch ({{_dense_rate}} == 0): sums only, no weight written
        {{ _pass('eval') }}
    }
    else
    {
        // le_brian dense: update branch
        {{ _pass('update') }}
    }
    {% else %}
    {{ _pass('update') }}
    {% endif %}
{% endblock %}
