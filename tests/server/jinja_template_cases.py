"""Regenerates the tables of tests/server/jinja_template_test.cpp from Jinja2 itself.

The expected outputs of the render table are what Jinja2 (pip jinja2, configured as
transformers configures it for chat templates) renders; the error table lists our
messages and positions. Not run by ctest (it needs Python's jinja2); after editing the
cases, run it and paste its output over the tables:

    python3 tests/server/jinja_template_cases.py > /tmp/table.inc
"""

CASES = [
 # statements
 ("if_elif_else", "{% for x in [1, 2, 3] %}{% if x == 1 %}one{% elif x == 2 %}two{% else %}many{% endif %};{% endfor %}", {}),
 ("for_else_empty", "{% for x in [] %}{{ x }}{% else %}empty{% endfor %}", {}),
 ("for_filter_and_loop", "{% for x in range(10) if x is odd %}{{ loop.index }}/{{ loop.length }}:{{ x }}{% if not loop.last %},{% endif %}{% endfor %}", {}),
 ("loop_vars", "{% for m in items %}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.previtem }}{{ loop.nextitem }}{{ loop.cycle('a', 'b') }};{% endfor %}", {"items": ["p", "q", "r"]}),
 ("loop_break_continue", "{% for i in range(10) %}{% if i == 2 %}{% continue %}{% endif %}{% if i == 5 %}{% break %}{% endif %}{{ i }}{% endfor %}", {}),
 ("nested_loops_scope", "{% for a in [1, 2] %}{% for b in [3, 4] %}{{ a }}{{ b }}{{ loop.index }} {% endfor %}{{ loop.index }}|{% endfor %}", {}),
 ("set_in_loop_does_not_leak", "{% set count = 0 %}{% for i in range(3) %}{% set count = count + 1 %}{{ count }}{% endfor %}|{{ count }}", {}),
 ("set_in_iteration_is_fresh", "{% for i in range(3) %}{% if i > 0 %}[{{ x }}]{% endif %}{% set x = i %}{% endfor %}", {}),
 ("namespace_carries_state", "{% set ns = namespace(total=0, seen=none) %}{% for i in [3, 4] %}{% set ns.total = ns.total + i %}{% set ns.seen = i %}{% endfor %}{{ ns.total }} {{ ns.seen }}", {}),
 ("set_tuple", "{% set a, b = [1, 'x'] %}{{ b }}{{ a }}{% set c, d = 5, 6 %}{{ c + d }}", {}),
 ("block_set_with_filter", "{% set x %}  Hi {{ name }}  {% endset %}[{{ x }}]{% set y | trim | upper %}  z  {% endset %}[{{ y }}]", {"name": "Bo"}),
 ("for_over_dict_items", "{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}{% for k in d %}{{ k }}{% endfor %}", {"d": {"b": 1, "a": 2}}),
 ("for_over_string", "{% for c in 'héj' %}<{{ c }}>{% endfor %}", {}),
 ("macro_defaults_varargs_kwargs", "{% macro m(a, b=2) %}{{ a }}-{{ b }}-{{ varargs }}-{{ kwargs }}{% endmacro %}{{ m(1) }}|{{ m(1, 3, 4, x=5) }}|{{ m(b=7, a=0) }}", {}),
 ("macro_recursion", "{% macro fact(n) %}{% if n <= 1 %}1{% else %}{{ n * fact(n - 1)|int }}{% endif %}{% endmacro %}{{ fact(5) }}", {}),
 ("macro_sees_outer_scope", "{% set greeting = 'hi' %}{% macro say(who) %}{{ greeting }} {{ who }}{% endmacro %}{{ say('you') }}", {}),
 ("call_block", "{% macro box(title) %}[{{ title }}: {{ caller() }}]{% endmacro %}{% call box('T') %}inside {{ 1 + 1 }}{% endcall %}", {}),
 ("call_block_args", "{% macro each(xs) %}{% for x in xs %}{{ caller(x) }}{% endfor %}{% endmacro %}{% call(v) each([1, 2]) %}<{{ v }}>{% endcall %}", {}),
 ("filter_block", "{% filter upper %}hello {{ 'world' }}{% endfilter %}{% filter replace('a', 'o') | trim %}  banana  {% endfilter %}", {}),
 ("raw_block", "{% raw %}{{ not }} {% evaluated %}{% endraw %}", {}),
 ("comments", "a{# dropped #}b{#- trims -#}   c", {}),
 # whitespace control
 ("trim_blocks_lstrip_blocks", "<ul>\n  {% for x in [1, 2] %}\n  <li>{{ x }}</li>\n  {% endfor %}\n</ul>", {}),
 ("dash_strips", "a   {%- if true -%}   b   {%- endif -%}   c\n  {{- 'd' -}}  \n e", {}),
 ("plus_keeps", "  {%+ if true %}x{% endif +%}\ny", {}),
 ("expression_not_lstripped", "  {{ 'x' }}\n  {% if true %}y{% endif %}\n", {}),
 ("trailing_newline_dropped", "line\n", {}),
 ("crlf_normalised", "a\r\n{% if true %}\r\nb{% endif %}\r\n", {}),
 # expressions
 ("arithmetic", "{{ 7 // 2 }} {{ -7 // 2 }} {{ -7 % 3 }} {{ 7 % -3 }} {{ 2 ** 10 }} {{ 7 / 2 }} {{ 2 ** -1 }} {{ 1.5 * 2 }} {{ 10 - 2.5 }} {{ -(3) }}", {}),
 ("float_repr", "{{ 0.1 + 0.2 }} {{ 1e20 }} {{ 1.0 }} {{ 1e-5 }} {{ 123456789012345678.0 }} {{ 0.0001 }} {{ 2.5e-3 }}", {}),
 ("string_concat", "{{ 'a' + 'b' }}{{ 'a' ~ 1 ~ none ~ true }}{{ 'ab' * 3 }}{{ [1] * 2 }}{{ [1] + [2] }}", {}),
 ("comparisons", "{{ 1 == 1.0 }}{{ true == 1 }}{{ [1, 2] == [1, 2] }}{{ 'a' < 'b' }}{{ 1 < 2 < 3 }}{{ 3 > 2 > 2 }}{{ 'a' != 'a' }}{{ 2 >= 2 }}{{ [1, 2] < [1, 3] }}", {}),
 ("membership", "{{ 'a' in 'cat' }}{{ 'z' not in 'cat' }}{{ 2 in [1, 2] }}{{ 'k' in {'k': 1} }}{{ 'x' in undefined_thing }}", {}),
 ("logic_returns_operands", "{{ 0 or 'x' }}|{{ 'a' and 'b' }}|{{ [] and 1 }}|{{ none or none }}|{{ not 0 }}|{{ not 'x' is string }}", {}),
 ("conditional_expression", "{{ 'y' if 1 else 'n' }}{{ 'y' if 0 else 'n' }}[{{ 'x' if false }}]{{ 'a' if false else 'b' if true else 'c' }}", {}),
 ("literals_repr", "{{ (1, 2) }}{{ (1,) }}{{ () }}{{ [1, (2, 3)] }}{{ {'k': none, 't': true} }}{{ \"it's\" }}{{ ['a\"b'] }}{{ {'q': 'x\\ny'} }}", {}),
 ("string_escapes", "{{ 'tab\\there' }}|{{ \"q\\\"q\" }}|{{ '\\u00e9\\x41' }}|{{ 'back\\\\slash' }}|{{ 'keep\\d' }}|{{ 'a' 'b' }}", {}),
 ("attribute_and_item", "{{ m.role }}{{ m['role'] }}{{ l[0] }}{{ l[-1] }}{{ l.1 }}{{ m.missing }}[{{ l[9] }}]{{ m.get('role') }}{{ m.get('nope', 'dflt') }}", {"m": {"role": "user"}, "l": ["a", "b"]}),
 ("slicing", "{{ l[1:] }}{{ l[:-1] }}{{ l[::-1] }}{{ l[::2] }}{{ l[-2:] }}{{ l[5:] }}{{ 'héllo'[1:3] }}{{ 'abc'[::-1] }}{{ 'abcdef'[-3:-1] }}", {"l": [1, 2, 3, 4]}),
 ("undefined_renders_empty", "[{{ nothing }}][{{ m.missing }}][{{ nothing | default('d') }}][{{ '' | default('e', true) }}][{{ nothing is defined }}]", {"m": {}}),
 ("none_and_booleans", "{{ none }}{{ true }}{{ False }}{{ None is none }}{{ x is none }}", {"x": None}),
 ("numbers_from_context", "{{ i + 1 }} {{ f * 2 }} {{ b }} {{ i is integer }} {{ f is float }} {{ b is boolean }}", {"i": 41, "f": 1.25, "b": True}),
 # string methods
 ("strip_methods", "[{{ ' x '.strip() }}][{{ ' x '.lstrip() }}][{{ ' x '.rstrip() }}][{{ 'xxhixx'.strip('x') }}][{{ '\\n\\nhi\\n'.lstrip('\\n') }}][{{ '\\u00a0nb\\u3000'.strip() }}]", {}),
 ("split_methods", "{{ 'a,b,,c'.split(',') }}{{ 'a,b,c'.split(',', 1) }}{{ 'a,b,c'.rsplit(',', 1) }}{{ '  a b  '.split() }}{{ '  a b  c '.split(None, 1) }}{{ 'x</think>y</think>z'.split('</think>')[-1] }}", {}),
 ("startswith_endswith", "{{ 'hello'.startswith('he') }}{{ 'hello'.endswith('lo') }}{{ 'hello'.startswith(('x', 'h')) }}{{ 'hi'.startswith('hello') }}", {}),
 ("replace_find_count", "{{ 'aaa'.replace('a', 'b', 2) }}{{ 'ab'.replace('', '-') }}{{ 'abcabc'.count('bc') }}{{ 'abcé'.find('é') }}{{ 'abc'.find('z') }}{{ 'abcabc'.rfind('a') }}", {}),
 ("case_methods", "{{ 'Hello World'.lower() }}{{ 'hello'.upper() }}{{ 'hello world'.title() }}{{ 'hELLO'.capitalize() }}{{ \"it's\".title() }}", {}),
 ("join_and_splitlines", "{{ '-'.join(['a', 'b']) }}{{ 'x\\ny\\r\\nz\\n'.splitlines() }}{{ 'a\\nb'.splitlines(true) }}", {}),
 ("is_methods", "{{ '123'.isdigit() }}{{ '12a'.isdigit() }}{{ 'abc'.isalpha() }}{{ ' \\t'.isspace() }}{{ 'ABC'.isupper() }}{{ 'abc'.islower() }}{{ ''.isdigit() }}", {}),
 # filters
 ("filter_trim_length", "[{{ '  x  ' | trim }}][{{ 'xxaxx' | trim('x') }}]{{ 'héllo' | length }}{{ [1, 2] | length }}{{ {'a': 1} | count }}", {}),
 ("filter_case", "{{ 'Hello' | upper }}{{ 'Hello' | lower }}{{ 'hello world' | capitalize }}{{ \"it's a-b (c)\" | title }}", {}),
 ("filter_tojson", "{{ d | tojson }}|{{ d | tojson(indent=2) }}|{{ 'é\"\\n' | tojson }}|{{ [] | tojson(indent=2) }}|{{ d | tojson(sort_keys=true) }}|{{ d | tojson(separators=(',', ':')) }}|{{ 'é' | tojson(ensure_ascii=true) }}", {"d": {"b": [1, 2.5, None, True], "a": {"x": "y"}}}),
 ("filter_join_map_select", "{{ [1, 2] | join(',') }}{{ users | map(attribute='name') | join('/') }}{{ ['a', 'b'] | map('upper') | list }}{{ users | selectattr('admin') | map(attribute='name') | list }}{{ users | rejectattr('admin') | list | length }}{{ [1, 2, 3, 4] | select('even') | list }}{{ [1, 2, 3] | reject('odd') | list }}{{ users | selectattr('name', 'equalto', 'b') | list }}", {"users": [{"name": "a", "admin": True}, {"name": "b", "admin": False}]}),
 ("filter_sort_unique", "{{ [3, 1, 2] | sort }}{{ ['b', 'A', 'c'] | sort }}{{ ['b', 'A'] | sort(case_sensitive=true) }}{{ [3, 1] | sort(reverse=true) }}{{ users | sort(attribute='n') | map(attribute='n') | list }}{{ [1, 2, 2, 1] | unique | list }}{{ ['A', 'a'] | unique | list }}", {"users": [{"n": 2}, {"n": 1}]}),
 ("filter_first_last_reverse", "{{ [1, 2, 3] | first }}{{ [1, 2, 3] | last }}{{ 'abc' | first }}{{ 'abc' | reverse }}{{ [1, 2] | reverse | list }}{{ [] | first is undefined }}", {}),
 ("filter_default", "{{ x | default('d') }}{{ '' | default('d') }}{{ '' | d('d', true) }}{{ none | default('d') }}{{ 0 | default(5, true) }}", {}),
 ("filter_numbers", "{{ '5' | int + 1 }}{{ '3.7' | float }}{{ 3.7 | int }}{{ 'x' | int(7) }}{{ -3 | abs }}{{ 2.5 | round }}{{ 3.5 | round }}{{ 3.14159 | round(2) }}{{ 2.1 | round(0, 'ceil') }}{{ ' 12 ' | int }}{{ '0x1A' | int(0, 16) }}", {}),
 ("filter_dicts", "{{ d | dictsort }}{{ d | dictsort(by='value', reverse=true) }}{{ d | items | list }}", {"d": {"b": 1, "a": 2, "C": 0}}),
 ("filter_aggregates", "{{ [1, 2, 3] | sum }}{{ xs | sum(attribute='v') }}{{ [1, 5, 3] | max }}{{ ['b', 'a'] | min }}{{ [1, 2, 3, 4, 5] | batch(2) | list }}{{ 'a b  c' | wordcount }}", {"xs": [{"v": 1}, {"v": 2}]}),
 ("filter_indent_escape_string", "{{ 'ab\\ncd\\n\\nef' | indent(2) }}|{{ 'ab\\ncd' | indent(2, true) }}|{{ 'a\\n\\nb' | indent('> ', blank=true) }}|{{ '<a href=\"x\">&</a>' | escape }}|{{ 12 | string }}{{ [1] | string }}", {}),
 ("filter_list_string", "{{ 'abc' | list }}{{ {'a': 1} | list }}", {}),
 # tests
 ("tests", "{{ x is defined }}{{ none is none }}{{ 'a' is string }}{{ 1 is number }}{{ true is number }}{{ 1 is integer }}{{ true is integer }}{{ [] is iterable }}{{ {} is mapping }}{{ 'A' is upper }}{{ 'a' is lower }}{{ 4 is even }}{{ 3 is odd }}{{ 9 is divisibleby 3 }}{{ 9 is divisibleby(2) }}", {}),
 ("tests_comparison", "{{ 1 is eq 1 }}{{ 1 is ne 2 }}{{ 1 is lt 2 }}{{ 1 is gt 2 }}{{ 2 is ge 2 }}{{ 'a' is in ['a'] }}{{ 1 is sameas 1 }}{{ none is sameas none }}{{ range is callable }}{{ 'x' is callable }}{{ [] is sequence }}{{ 1 is not string }}", {}),
 # a Llama 3.1-style template: tools in the first user message, builtin tools, date
 ("llama31_style_tools", '{{- bos_token }}\n{%- if custom_tools is defined %}\n    {%- set tools = custom_tools %}\n{%- endif %}\n{%- if not tools_in_user_message is defined %}\n    {%- set tools_in_user_message = true %}\n{%- endif %}\n{%- if not date_string is defined %}\n    {%- set date_string = "26 Jul 2024" %}\n{%- endif %}\n{%- if not tools is defined %}\n    {%- set tools = none %}\n{%- endif %}\n{%- if messages[0][\'role\'] == \'system\' %}\n    {%- set system_message = messages[0][\'content\']|trim %}\n    {%- set messages = messages[1:] %}\n{%- else %}\n    {%- set system_message = "" %}\n{%- endif %}\n{{- "<|start_header_id|>system<|end_header_id|>\\n\\n" }}\n{%- if builtin_tools is defined or tools is not none %}\n    {{- "Environment: ipython\\n" }}\n{%- endif %}\n{%- if builtin_tools is defined %}\n    {{- "Tools: " + builtin_tools | reject(\'equalto\', \'code_interpreter\') | join(", ") + "\\n\\n"}}\n{%- endif %}\n{{- "Cutting Knowledge Date: December 2023\\n" }}\n{{- "Today Date: " + date_string + "\\n\\n" }}\n{%- if tools is not none and not tools_in_user_message %}\n    {%- for t in tools %}\n        {{- t | tojson(indent=4) }}\n        {{- "\\n\\n" }}\n    {%- endfor %}\n{%- endif %}\n{{- system_message }}\n{{- "<|eot_id|>" }}\n{%- if tools_in_user_message and not tools is none %}\n    {%- if messages | length != 0 %}\n        {%- set first_user_message = messages[0][\'content\']|trim %}\n        {%- set messages = messages[1:] %}\n    {%- else %}\n        {{- raise_exception("Cannot put tools in the first user message when there\'s no first user message!") }}\n    {%- endif %}\n    {{- \'<|start_header_id|>user<|end_header_id|>\\n\\n\' -}}\n    {%- for t in tools %}\n        {{- t | tojson(indent=4) }}\n        {{- "\\n\\n" }}\n    {%- endfor %}\n    {{- first_user_message + "<|eot_id|>"}}\n{%- endif %}\n{%- for message in messages %}\n    {%- if not (message.role == \'ipython\' or message.role == \'tool\' or \'tool_calls\' in message) %}\n        {{- \'<|start_header_id|>\' + message[\'role\'] + \'<|end_header_id|>\\n\\n\'+ message[\'content\'] | trim + \'<|eot_id|>\' }}\n    {%- elif \'tool_calls\' in message %}\n        {%- if not message.tool_calls|length == 1 %}\n            {{- raise_exception("Only single tool-calls are supported.") }}\n        {%- endif %}\n        {%- set tool_call = message.tool_calls[0].function %}\n        {{- \'<|start_header_id|>assistant<|end_header_id|>\\n\\n\' -}}\n        {{- \'{"name": "\' + tool_call.name + \'", \' }}\n        {{- \'"parameters": \' }}\n        {{- tool_call.arguments | tojson }}\n        {{- "}" }}\n        {{- "<|eot_id|>" }}\n    {%- elif message.role == "tool" or message.role == "ipython" %}\n        {{- "<|start_header_id|>ipython<|end_header_id|>\\n\\n" }}\n        {%- if message.content is mapping or message.content is iterable %}\n            {{- message.content | tojson }}\n        {%- else %}\n            {{- message.content }}\n        {%- endif %}\n        {{- "<|eot_id|>" }}\n    {%- endif %}\n{%- endfor %}\n{%- if add_generation_prompt %}\n    {{- \'<|start_header_id|>assistant<|end_header_id|>\\n\\n\' }}\n{%- endif %}\n',
  {'messages': [{'role': 'system', 'content': ' You help. '}, {'role': 'user', 'content': 'Weather in Zürich?'}, {'role': 'assistant', 'content': '', 'tool_calls': [{'function': {'name': 'get_weather', 'arguments': {'city': 'Zürich', 'days': 2}}}]}, {'role': 'tool', 'content': {'temp': 21}}, {'role': 'assistant', 'content': '21 °C'}], 'tools': [{'type': 'function', 'function': {'name': 'get_weather', 'parameters': {'type': 'object', 'properties': {'city': {'type': 'string'}}}}}], 'builtin_tools': ['code_interpreter', 'brave_search'], 'date_string': '03 Dec 2025', 'add_generation_prompt': True, 'bos_token': '<|begin_of_text|>'}),
 # globals
 ("globals", "{{ range(3) | list }}{{ range(1, 7, 2) | list }}{{ range(5, 0, -2) | list }}{{ dict(a=1, b='x') }}{{ namespace(a=1).a }}", {}),
]

# (name, template, context, message substring, line, column)
ERRORS = [
 ("unclosed_block", "{% if x %}\nhello", {}, "is never closed by 'endif'", 2, 6),
 ("unknown_tag", "a\n  {% frobnicate %}", {}, "unknown or unsupported statement 'frobnicate'", 2, 6),
 ("stray_end_tag", "{% endfor %}", {}, "unexpected 'endfor'", 1, 4),
 ("bad_expression", "{{ 1 + }}", {}, "expected an expression", 1, 8),
 ("unclosed_expression", "ok\n{{ x ", {}, "not closed by }}", 2, 1),
 ("unclosed_string", "{{ 'abc }}", {}, "unterminated string", 1, 4),
 ("unclosed_comment", "{# forever", {}, "missing end of comment tag", 1, 1),
 ("unbalanced_bracket", "{{ (1 + 2] }}", {}, "unexpected ']', expected ')'", 1, 10),
 ("bad_character", "{{ a $ b }}", {}, "unexpected character '$'", 1, 6),
 ("break_outside_loop", "{% break %}", {}, "'break' outside of a for loop", 1, 4),
 ("elif_without_if", "{% elif x %}", {}, "unexpected 'elif'", 1, 4),
 ("missing_in", "{% for x of y %}{% endfor %}", {}, "expected 'in'", 1, 10),
 ("raise_exception", "line one\n{{ raise_exception('Conversation roles must alternate') }}", {}, "Conversation roles must alternate", 2, 4),
 ("undefined_attribute", "{{ nothing.attr }}", {}, "'nothing' is undefined", 1, 4),
 ("type_error", "{{ 'a' + 1 }}", {}, "unsupported operand type(s) for +: 'str' and 'int'", 1, 8),
 ("division_by_zero", "{{ 1 // 0 }}", {}, "division or modulo by zero", 1, 6),
 ("not_callable", "{{ 'x'() }}", {}, "'str' object is not callable", 1, 4),
 ("unknown_filter", "{{ 1 | frobnicate }}", {}, "no filter named 'frobnicate'", 1, 8),
 ("unknown_test", "{{ 1 is frobnicate }}", {}, "no test named 'frobnicate'", 1, 9),
 ("macro_too_many_args", "{% macro m(a) %}{% endmacro %}{{ m(1, 2) }}", {}, "takes not more than 1 argument(s)", 1, 34),
 ("assign_to_non_namespace", "{% set x = 1 %}{% set x.y = 2 %}", {}, "not a namespace", 1, 19),
 ("list_is_immutable", "{% set l = [] %}{{ l.append(1) }}", {}, "is not allowed", 1, 20),
]
import json, sys, jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment
def raise_exception(m): raise jinja2.exceptions.TemplateError(m)
def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)
env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.loopcontrols"])
env.globals["raise_exception"] = raise_exception
env.filters["tojson"] = tojson
def cstr(s):
    # a C++ raw-free string literal
    out = '"'
    for ch in s:
        o = ord(ch)
        if ch == '"': out += '\\"'
        elif ch == '\\': out += '\\\\'
        elif ch == '\n': out += '\\n'
        elif ch == '\r': out += '\\r'
        elif ch == '\t': out += '\\t'
        elif o < 0x20: out += '\\x%02x""' % o
        else: out += ch
    return out + '"'
rows = []
for name, tpl, ctx in CASES:
    try:
        out = env.from_string(tpl).render(**ctx)
    except Exception as e:
        print("CASE FAILS IN JINJA2", name, e, file=sys.stderr); continue
    rows.append("    {%s,\n     %s,\n     %s,\n     %s}," % (cstr(name), cstr(tpl), cstr(json.dumps(ctx, ensure_ascii=False)), cstr(out)))
print("// Generated from Jinja2 %s (ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks,\n// loopcontrols, transformers' tojson): the expected outputs of an independent implementation." % jinja2.__version__)
print("const RenderCase kRenderCases[] = {\n" + "\n".join(rows) + "\n};")
erows = []
for name, tpl, ctx, msg, line, col in ERRORS:
    try:
        env.from_string(tpl).render(**ctx); print("NO ERROR IN JINJA2", name, file=sys.stderr)
    except Exception as e:
        pass
    erows.append("    {%s, %s, %s, %s, %d, %d}," % (cstr(name), cstr(tpl), cstr(json.dumps(ctx)), cstr(msg), line, col))
print("\nconst ErrorCase kErrorCases[] = {\n" + "\n".join(erows) + "\n};")
