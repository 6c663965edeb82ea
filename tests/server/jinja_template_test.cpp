// The Jinja interpreter, table-driven: statements, whitespace control, expressions,
// string methods, filters, tests and globals render as Jinja2 renders them (the expected
// outputs below were produced by Jinja2 itself with transformers' settings, by
// jinja_template_cases.py next to this file); syntax and
// render errors name the line and column; limits stop runaway templates; provenance marks
// the bytes that came from the request.
#include "server/jinja_template.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace llmops::server::jinja {
namespace {

struct RenderCase {
  const char* name;
  const char* source;
  const char* context;  // JSON object of variables
  const char* expected;
};

struct ErrorCase {
  const char* name;
  const char* source;
  const char* context;
  const char* message;  // a substring of the error
  int line;
  int column;
};

// Generated from Jinja2 3.1.6 (ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks,
// loopcontrols, transformers' tojson): the expected outputs of an independent implementation.
const RenderCase kRenderCases[] = {
    {"if_elif_else",
     "{% for x in [1, 2, 3] %}{% if x == 1 %}one{% elif x == 2 %}two{% else %}many{% endif %};{% "
     "endfor %}",
     "{}", "one;two;many;"},
    {"for_else_empty", "{% for x in [] %}{{ x }}{% else %}empty{% endfor %}", "{}", "empty"},
    {"for_filter_and_loop",
     "{% for x in range(10) if x is odd %}{{ loop.index }}/{{ loop.length }}:{{ x }}{% if not "
     "loop.last %},{% endif %}{% endfor %}",
     "{}", "1/5:1,2/5:3,3/5:5,4/5:7,5/5:9"},
    {"loop_vars",
     "{% for m in items %}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first "
     "}}{{ loop.last }}{{ loop.previtem }}{{ loop.nextitem }}{{ loop.cycle('a', 'b') }};{% endfor "
     "%}",
     "{\"items\": [\"p\", \"q\", \"r\"]}", "032TrueFalseqa;121FalseFalseprb;210FalseTrueqa;"},
    {"loop_break_continue",
     "{% for i in range(10) %}{% if i == 2 %}{% continue %}{% endif %}{% if i == 5 %}{% break %}{% "
     "endif %}{{ i }}{% endfor %}",
     "{}", "0134"},
    {"nested_loops_scope",
     "{% for a in [1, 2] %}{% for b in [3, 4] %}{{ a }}{{ b }}{{ loop.index }} {% endfor %}{{ "
     "loop.index }}|{% endfor %}",
     "{}", "131 142 1|231 242 2|"},
    {"set_in_loop_does_not_leak",
     "{% set count = 0 %}{% for i in range(3) %}{% set count = count + 1 %}{{ count }}{% endfor "
     "%}|{{ count }}",
     "{}", "111|0"},
    {"set_in_iteration_is_fresh",
     "{% for i in range(3) %}{% if i > 0 %}[{{ x }}]{% endif %}{% set x = i %}{% endfor %}", "{}",
     "[][]"},
    {"namespace_carries_state",
     "{% set ns = namespace(total=0, seen=none) %}{% for i in [3, 4] %}{% set ns.total = ns.total "
     "+ i %}{% set ns.seen = i %}{% endfor %}{{ ns.total }} {{ ns.seen }}",
     "{}", "7 4"},
    {"set_tuple", "{% set a, b = [1, 'x'] %}{{ b }}{{ a }}{% set c, d = 5, 6 %}{{ c + d }}", "{}",
     "x111"},
    {"block_set_with_filter",
     "{% set x %}  Hi {{ name }}  {% endset %}[{{ x }}]{% set y | trim | upper %}  z  {% endset "
     "%}[{{ y }}]",
     "{\"name\": \"Bo\"}", "[  Hi Bo  ][Z]"},
    {"for_over_dict_items",
     "{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}{% for k in d %}{{ k }}{% endfor %}",
     "{\"d\": {\"b\": 1, \"a\": 2}}", "b=1;a=2;ba"},
    {"for_over_string", "{% for c in 'héj' %}<{{ c }}>{% endfor %}", "{}", "<h><é><j>"},
    {"macro_defaults_varargs_kwargs",
     "{% macro m(a, b=2) %}{{ a }}-{{ b }}-{{ varargs }}-{{ kwargs }}{% endmacro %}{{ m(1) }}|{{ "
     "m(1, 3, 4, x=5) }}|{{ m(b=7, a=0) }}",
     "{}", "1-2-()-{}|1-3-(4,)-{'x': 5}|0-7-()-{}"},
    {"macro_recursion",
     "{% macro fact(n) %}{% if n <= 1 %}1{% else %}{{ n * fact(n - 1)|int }}{% endif %}{% endmacro "
     "%}{{ fact(5) }}",
     "{}", "120"},
    {"macro_sees_outer_scope",
     "{% set greeting = 'hi' %}{% macro say(who) %}{{ greeting }} {{ who }}{% endmacro %}{{ "
     "say('you') }}",
     "{}", "hi you"},
    {"call_block",
     "{% macro box(title) %}[{{ title }}: {{ caller() }}]{% endmacro %}{% call box('T') %}inside "
     "{{ 1 + 1 }}{% endcall %}",
     "{}", "[T: inside 2]"},
    {"call_block_args",
     "{% macro each(xs) %}{% for x in xs %}{{ caller(x) }}{% endfor %}{% endmacro %}{% call(v) "
     "each([1, 2]) %}<{{ v }}>{% endcall %}",
     "{}", "<1><2>"},
    {"filter_block",
     "{% filter upper %}hello {{ 'world' }}{% endfilter %}{% filter replace('a', 'o') | trim %}  "
     "banana  {% endfilter %}",
     "{}", "HELLO WORLDbonono"},
    {"raw_block", "{% raw %}{{ not }} {% evaluated %}{% endraw %}", "{}",
     "{{ not }} {% evaluated %}"},
    {"comments", "a{# dropped #}b{#- trims -#}   c", "{}", "abc"},
    {"trim_blocks_lstrip_blocks",
     "<ul>\n  {% for x in [1, 2] %}\n  <li>{{ x }}</li>\n  {% endfor %}\n</ul>", "{}",
     "<ul>\n  <li>1</li>\n  <li>2</li>\n</ul>"},
    {"dash_strips", "a   {%- if true -%}   b   {%- endif -%}   c\n  {{- 'd' -}}  \n e", "{}",
     "abcde"},
    {"plus_keeps", "  {%+ if true %}x{% endif +%}\ny", "{}", "  x\ny"},
    {"expression_not_lstripped", "  {{ 'x' }}\n  {% if true %}y{% endif %}\n", "{}", "  x\ny"},
    {"trailing_newline_dropped", "line\n", "{}", "line"},
    {"crlf_normalised", "a\r\n{% if true %}\r\nb{% endif %}\r\n", "{}", "a\nb"},
    {"arithmetic",
     "{{ 7 // 2 }} {{ -7 // 2 }} {{ -7 % 3 }} {{ 7 % -3 }} {{ 2 ** 10 }} {{ 7 / 2 }} {{ 2 ** -1 }} "
     "{{ 1.5 * 2 }} {{ 10 - 2.5 }} {{ -(3) }}",
     "{}", "3 -4 2 -2 1024 3.5 0.5 3.0 7.5 -3"},
    {"float_repr",
     "{{ 0.1 + 0.2 }} {{ 1e20 }} {{ 1.0 }} {{ 1e-5 }} {{ 123456789012345678.0 }} {{ 0.0001 }} {{ "
     "2.5e-3 }}",
     "{}", "0.30000000000000004 1e+20 1.0 1e-05 1.2345678901234568e+17 0.0001 0.0025"},
    {"string_concat",
     "{{ 'a' + 'b' }}{{ 'a' ~ 1 ~ none ~ true }}{{ 'ab' * 3 }}{{ [1] * 2 }}{{ [1] + [2] }}", "{}",
     "aba1NoneTrueababab[1, 1][1, 2]"},
    {"comparisons",
     "{{ 1 == 1.0 }}{{ true == 1 }}{{ [1, 2] == [1, 2] }}{{ 'a' < 'b' }}{{ 1 < 2 < 3 }}{{ 3 > 2 > "
     "2 }}{{ 'a' != 'a' }}{{ 2 >= 2 }}{{ [1, 2] < [1, 3] }}",
     "{}", "TrueTrueTrueTrueTrueFalseFalseTrueTrue"},
    {"membership",
     "{{ 'a' in 'cat' }}{{ 'z' not in 'cat' }}{{ 2 in [1, 2] }}{{ 'k' in {'k': 1} }}{{ 'x' in "
     "undefined_thing }}",
     "{}", "TrueTrueTrueTrueFalse"},
    {"logic_returns_operands",
     "{{ 0 or 'x' }}|{{ 'a' and 'b' }}|{{ [] and 1 }}|{{ none or none }}|{{ not 0 }}|{{ not 'x' is "
     "string }}",
     "{}", "x|b|[]|None|True|False"},
    {"conditional_expression",
     "{{ 'y' if 1 else 'n' }}{{ 'y' if 0 else 'n' }}[{{ 'x' if false }}]{{ 'a' if false else 'b' "
     "if true else 'c' }}",
     "{}", "yn[]b"},
    {"literals_repr",
     "{{ (1, 2) }}{{ (1,) }}{{ () }}{{ [1, (2, 3)] }}{{ {'k': none, 't': true} }}{{ \"it's\" }}{{ "
     "['a\"b'] }}{{ {'q': 'x\\ny'} }}",
     "{}", "(1, 2)(1,)()[1, (2, 3)]{'k': None, 't': True}it's['a\"b']{'q': 'x\\ny'}"},
    {"string_escapes",
     "{{ 'tab\\there' }}|{{ \"q\\\"q\" }}|{{ '\\u00e9\\x41' }}|{{ 'back\\\\slash' }}|{{ 'keep\\d' "
     "}}|{{ 'a' 'b' }}",
     "{}", "tab\there|q\"q|éA|back\\slash|keep\\d|ab"},
    {"attribute_and_item",
     "{{ m.role }}{{ m['role'] }}{{ l[0] }}{{ l[-1] }}{{ l.1 }}{{ m.missing }}[{{ l[9] }}]{{ "
     "m.get('role') }}{{ m.get('nope', 'dflt') }}",
     "{\"m\": {\"role\": \"user\"}, \"l\": [\"a\", \"b\"]}", "useruserabb[]userdflt"},
    {"slicing",
     "{{ l[1:] }}{{ l[:-1] }}{{ l[::-1] }}{{ l[::2] }}{{ l[-2:] }}{{ l[5:] }}{{ 'héllo'[1:3] }}{{ "
     "'abc'[::-1] }}{{ 'abcdef'[-3:-1] }}",
     "{\"l\": [1, 2, 3, 4]}", "[2, 3, 4][1, 2, 3][4, 3, 2, 1][1, 3][3, 4][]élcbade"},
    {"undefined_renders_empty",
     "[{{ nothing }}][{{ m.missing }}][{{ nothing | default('d') }}][{{ '' | default('e', true) "
     "}}][{{ nothing is defined }}]",
     "{\"m\": {}}", "[][][d][e][False]"},
    {"none_and_booleans", "{{ none }}{{ true }}{{ False }}{{ None is none }}{{ x is none }}",
     "{\"x\": null}", "NoneTrueFalseTrueTrue"},
    {"numbers_from_context",
     "{{ i + 1 }} {{ f * 2 }} {{ b }} {{ i is integer }} {{ f is float }} {{ b is boolean }}",
     "{\"i\": 41, \"f\": 1.25, \"b\": true}", "42 2.5 True True True True"},
    {"strip_methods",
     "[{{ ' x '.strip() }}][{{ ' x '.lstrip() }}][{{ ' x '.rstrip() }}][{{ 'xxhixx'.strip('x') "
     "}}][{{ '\\n\\nhi\\n'.lstrip('\\n') }}][{{ '\\u00a0nb\\u3000'.strip() }}]",
     "{}", "[x][x ][ x][hi][hi\n][nb]"},
    {"split_methods",
     "{{ 'a,b,,c'.split(',') }}{{ 'a,b,c'.split(',', 1) }}{{ 'a,b,c'.rsplit(',', 1) }}{{ '  a b  "
     "'.split() }}{{ '  a b  c '.split(None, 1) }}{{ 'x</think>y</think>z'.split('</think>')[-1] "
     "}}",
     "{}", "['a', 'b', '', 'c']['a', 'b,c']['a,b', 'c']['a', 'b']['a', 'b  c ']z"},
    {"startswith_endswith",
     "{{ 'hello'.startswith('he') }}{{ 'hello'.endswith('lo') }}{{ 'hello'.startswith(('x', 'h')) "
     "}}{{ 'hi'.startswith('hello') }}",
     "{}", "TrueTrueTrueFalse"},
    {"replace_find_count",
     "{{ 'aaa'.replace('a', 'b', 2) }}{{ 'ab'.replace('', '-') }}{{ 'abcabc'.count('bc') }}{{ "
     "'abcé'.find('é') }}{{ 'abc'.find('z') }}{{ 'abcabc'.rfind('a') }}",
     "{}", "bba-a-b-23-13"},
    {"case_methods",
     "{{ 'Hello World'.lower() }}{{ 'hello'.upper() }}{{ 'hello world'.title() }}{{ "
     "'hELLO'.capitalize() }}{{ \"it's\".title() }}",
     "{}", "hello worldHELLOHello WorldHelloIt'S"},
    {"join_and_splitlines",
     "{{ '-'.join(['a', 'b']) }}{{ 'x\\ny\\r\\nz\\n'.splitlines() }}{{ 'a\\nb'.splitlines(true) }}",
     "{}", "a-b['x', 'y', 'z']['a\\n', 'b']"},
    {"is_methods",
     "{{ '123'.isdigit() }}{{ '12a'.isdigit() }}{{ 'abc'.isalpha() }}{{ ' \\t'.isspace() }}{{ "
     "'ABC'.isupper() }}{{ 'abc'.islower() }}{{ ''.isdigit() }}",
     "{}", "TrueFalseTrueTrueTrueTrueFalse"},
    {"filter_trim_length",
     "[{{ '  x  ' | trim }}][{{ 'xxaxx' | trim('x') }}]{{ 'héllo' | length }}{{ [1, 2] | length "
     "}}{{ {'a': 1} | count }}",
     "{}", "[x][a]521"},
    {"filter_case",
     "{{ 'Hello' | upper }}{{ 'Hello' | lower }}{{ 'hello world' | capitalize }}{{ \"it's a-b "
     "(c)\" | title }}",
     "{}", "HELLOhelloHello worldIt's A-B (C)"},
    {"filter_tojson",
     "{{ d | tojson }}|{{ d | tojson(indent=2) }}|{{ 'é\"\\n' | tojson }}|{{ [] | tojson(indent=2) "
     "}}|{{ d | tojson(sort_keys=true) }}|{{ d | tojson(separators=(',', ':')) }}|{{ 'é' | "
     "tojson(ensure_ascii=true) }}",
     "{\"d\": {\"b\": [1, 2.5, null, true], \"a\": {\"x\": \"y\"}}}",
     "{\"b\": [1, 2.5, null, true], \"a\": {\"x\": \"y\"}}|{\n  \"b\": [\n    1,\n    2.5,\n    "
     "null,\n    true\n  ],\n  \"a\": {\n    \"x\": \"y\"\n  }\n}|\"é\\\"\\n\"|[]|{\"a\": {\"x\": "
     "\"y\"}, \"b\": [1, 2.5, null, "
     "true]}|{\"b\":[1,2.5,null,true],\"a\":{\"x\":\"y\"}}|\"\\u00e9\""},
    {"filter_join_map_select",
     "{{ [1, 2] | join(',') }}{{ users | map(attribute='name') | join('/') }}{{ ['a', 'b'] | "
     "map('upper') | list }}{{ users | selectattr('admin') | map(attribute='name') | list }}{{ "
     "users | rejectattr('admin') | list | length }}{{ [1, 2, 3, 4] | select('even') | list }}{{ "
     "[1, 2, 3] | reject('odd') | list }}{{ users | selectattr('name', 'equalto', 'b') | list }}",
     "{\"users\": [{\"name\": \"a\", \"admin\": true}, {\"name\": \"b\", \"admin\": false}]}",
     "1,2a/b['A', 'B']['a']1[2, 4][2][{'name': 'b', 'admin': False}]"},
    {"filter_sort_unique",
     "{{ [3, 1, 2] | sort }}{{ ['b', 'A', 'c'] | sort }}{{ ['b', 'A'] | sort(case_sensitive=true) "
     "}}{{ [3, 1] | sort(reverse=true) }}{{ users | sort(attribute='n') | map(attribute='n') | "
     "list }}{{ [1, 2, 2, 1] | unique | list }}{{ ['A', 'a'] | unique | list }}",
     "{\"users\": [{\"n\": 2}, {\"n\": 1}]}",
     "[1, 2, 3]['A', 'b', 'c']['A', 'b'][3, 1][1, 2][1, 2]['A']"},
    {"filter_first_last_reverse",
     "{{ [1, 2, 3] | first }}{{ [1, 2, 3] | last }}{{ 'abc' | first }}{{ 'abc' | reverse }}{{ [1, "
     "2] | reverse | list }}{{ [] | first is undefined }}",
     "{}", "13acba[2, 1]True"},
    {"filter_default",
     "{{ x | default('d') }}{{ '' | default('d') }}{{ '' | d('d', true) }}{{ none | default('d') "
     "}}{{ 0 | default(5, true) }}",
     "{}", "ddNone5"},
    {"filter_numbers",
     "{{ '5' | int + 1 }}{{ '3.7' | float }}{{ 3.7 | int }}{{ 'x' | int(7) }}{{ -3 | abs }}{{ 2.5 "
     "| round }}{{ 3.5 | round }}{{ 3.14159 | round(2) }}{{ 2.1 | round(0, 'ceil') }}{{ ' 12 ' | "
     "int }}{{ '0x1A' | int(0, 16) }}",
     "{}", "63.73732.04.03.143.01226"},
    {"filter_dicts",
     "{{ d | dictsort }}{{ d | dictsort(by='value', reverse=true) }}{{ d | items | list }}",
     "{\"d\": {\"b\": 1, \"a\": 2, \"C\": 0}}",
     "[('a', 2), ('b', 1), ('C', 0)][('a', 2), ('b', 1), ('C', 0)][('b', 1), ('a', 2), ('C', 0)]"},
    {"filter_aggregates",
     "{{ [1, 2, 3] | sum }}{{ xs | sum(attribute='v') }}{{ [1, 5, 3] | max }}{{ ['b', 'a'] | min "
     "}}{{ [1, 2, 3, 4, 5] | batch(2) | list }}{{ 'a b  c' | wordcount }}",
     "{\"xs\": [{\"v\": 1}, {\"v\": 2}]}", "635a[[1, 2], [3, 4], [5]]3"},
    {"filter_indent_escape_string",
     "{{ 'ab\\ncd\\n\\nef' | indent(2) }}|{{ 'ab\\ncd' | indent(2, true) }}|{{ 'a\\n\\nb' | "
     "indent('> ', blank=true) }}|{{ '<a href=\"x\">&</a>' | escape }}|{{ 12 | string }}{{ [1] | "
     "string }}",
     "{}",
     "ab\n  cd\n\n  ef|  ab\n  cd|a\n> \n> b|&lt;a href=&#34;x&#34;&gt;&amp;&lt;/a&gt;|12[1]"},
    {"filter_list_string", "{{ 'abc' | list }}{{ {'a': 1} | list }}", "{}", "['a', 'b', 'c']['a']"},
    {"tests",
     "{{ x is defined }}{{ none is none }}{{ 'a' is string }}{{ 1 is number }}{{ true is number "
     "}}{{ 1 is integer }}{{ true is integer }}{{ [] is iterable }}{{ {} is mapping }}{{ 'A' is "
     "upper }}{{ 'a' is lower }}{{ 4 is even }}{{ 3 is odd }}{{ 9 is divisibleby 3 }}{{ 9 is "
     "divisibleby(2) }}",
     "{}", "FalseTrueTrueTrueTrueTrueFalseTrueTrueTrueTrueTrueTrueTrueFalse"},
    {"tests_comparison",
     "{{ 1 is eq 1 }}{{ 1 is ne 2 }}{{ 1 is lt 2 }}{{ 1 is gt 2 }}{{ 2 is ge 2 }}{{ 'a' is in "
     "['a'] }}{{ 1 is sameas 1 }}{{ none is sameas none }}{{ range is callable }}{{ 'x' is "
     "callable }}{{ [] is sequence }}{{ 1 is not string }}",
     "{}", "TrueTrueTrueFalseTrueTrueTrueTrueTrueFalseTrueTrue"},
    {"llama31_style_tools",
     "{{- bos_token }}\n{%- if custom_tools is defined %}\n    {%- set tools = custom_tools "
     "%}\n{%- endif %}\n{%- if not tools_in_user_message is defined %}\n    {%- set "
     "tools_in_user_message = true %}\n{%- endif %}\n{%- if not date_string is defined %}\n    {%- "
     "set date_string = \"26 Jul 2024\" %}\n{%- endif %}\n{%- if not tools is defined %}\n    {%- "
     "set tools = none %}\n{%- endif %}\n{%- if messages[0]['role'] == 'system' %}\n    {%- set "
     "system_message = messages[0]['content']|trim %}\n    {%- set messages = messages[1:] %}\n{%- "
     "else %}\n    {%- set system_message = \"\" %}\n{%- endif %}\n{{- "
     "\"<|start_header_id|>system<|end_header_id|>\\n\\n\" }}\n{%- if builtin_tools is defined or "
     "tools is not none %}\n    {{- \"Environment: ipython\\n\" }}\n{%- endif %}\n{%- if "
     "builtin_tools is defined %}\n    {{- \"Tools: \" + builtin_tools | reject('equalto', "
     "'code_interpreter') | join(\", \") + \"\\n\\n\"}}\n{%- endif %}\n{{- \"Cutting Knowledge "
     "Date: December 2023\\n\" }}\n{{- \"Today Date: \" + date_string + \"\\n\\n\" }}\n{%- if "
     "tools is not none and not tools_in_user_message %}\n    {%- for t in tools %}\n        {{- t "
     "| tojson(indent=4) }}\n        {{- \"\\n\\n\" }}\n    {%- endfor %}\n{%- endif %}\n{{- "
     "system_message }}\n{{- \"<|eot_id|>\" }}\n{%- if tools_in_user_message and not tools is none "
     "%}\n    {%- if messages | length != 0 %}\n        {%- set first_user_message = "
     "messages[0]['content']|trim %}\n        {%- set messages = messages[1:] %}\n    {%- else "
     "%}\n        {{- raise_exception(\"Cannot put tools in the first user message when there's no "
     "first user message!\") }}\n    {%- endif %}\n    {{- "
     "'<|start_header_id|>user<|end_header_id|>\\n\\n' -}}\n    {%- for t in tools %}\n        {{- "
     "t | tojson(indent=4) }}\n        {{- \"\\n\\n\" }}\n    {%- endfor %}\n    {{- "
     "first_user_message + \"<|eot_id|>\"}}\n{%- endif %}\n{%- for message in messages %}\n    {%- "
     "if not (message.role == 'ipython' or message.role == 'tool' or 'tool_calls' in message) %}\n "
     "       {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ "
     "message['content'] | trim + '<|eot_id|>' }}\n    {%- elif 'tool_calls' in message %}\n       "
     " {%- if not message.tool_calls|length == 1 %}\n            {{- raise_exception(\"Only single "
     "tool-calls are supported.\") }}\n        {%- endif %}\n        {%- set tool_call = "
     "message.tool_calls[0].function %}\n        {{- "
     "'<|start_header_id|>assistant<|end_header_id|>\\n\\n' -}}\n        {{- '{\"name\": \"' + "
     "tool_call.name + '\", ' }}\n        {{- '\"parameters\": ' }}\n        {{- "
     "tool_call.arguments | tojson }}\n        {{- \"}\" }}\n        {{- \"<|eot_id|>\" }}\n    "
     "{%- elif message.role == \"tool\" or message.role == \"ipython\" %}\n        {{- "
     "\"<|start_header_id|>ipython<|end_header_id|>\\n\\n\" }}\n        {%- if message.content is "
     "mapping or message.content is iterable %}\n            {{- message.content | tojson }}\n     "
     "   {%- else %}\n            {{- message.content }}\n        {%- endif %}\n        {{- "
     "\"<|eot_id|>\" }}\n    {%- endif %}\n{%- endfor %}\n{%- if add_generation_prompt %}\n    {{- "
     "'<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}\n{%- endif %}\n",
     "{\"messages\": [{\"role\": \"system\", \"content\": \" You help. \"}, {\"role\": \"user\", "
     "\"content\": \"Weather in Zürich?\"}, {\"role\": \"assistant\", \"content\": \"\", "
     "\"tool_calls\": [{\"function\": {\"name\": \"get_weather\", \"arguments\": {\"city\": "
     "\"Zürich\", \"days\": 2}}}]}, {\"role\": \"tool\", \"content\": {\"temp\": 21}}, {\"role\": "
     "\"assistant\", \"content\": \"21 °C\"}], \"tools\": [{\"type\": \"function\", \"function\": "
     "{\"name\": \"get_weather\", \"parameters\": {\"type\": \"object\", \"properties\": "
     "{\"city\": {\"type\": \"string\"}}}}}], \"builtin_tools\": [\"code_interpreter\", "
     "\"brave_search\"], \"date_string\": \"03 Dec 2025\", \"add_generation_prompt\": true, "
     "\"bos_token\": \"<|begin_of_text|>\"}",
     "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nEnvironment: ipython\nTools: "
     "brave_search\n\nCutting Knowledge Date: December 2023\nToday Date: 03 Dec 2025\n\nYou "
     "help.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\n{\n    \"type\": \"function\",\n  "
     "  \"function\": {\n        \"name\": \"get_weather\",\n        \"parameters\": {\n           "
     " \"type\": \"object\",\n            \"properties\": {\n                \"city\": {\n         "
     "           \"type\": \"string\"\n                }\n            }\n        }\n    "
     "}\n}\n\nWeather in "
     "Zürich?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n{\"name\": "
     "\"get_weather\", \"parameters\": {\"city\": \"Zürich\", \"days\": "
     "2}}<|eot_id|><|start_header_id|>ipython<|end_header_id|>\n\n{\"temp\": "
     "21}<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n21 "
     "°C<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"},
    {"globals",
     "{{ range(3) | list }}{{ range(1, 7, 2) | list }}{{ range(5, 0, -2) | list }}{{ dict(a=1, "
     "b='x') }}{{ namespace(a=1).a }}",
     "{}", "[0, 1, 2][1, 3, 5][5, 3, 1]{'a': 1, 'b': 'x'}1"},
};

const ErrorCase kErrorCases[] = {
    {"unclosed_block", "{% if x %}\nhello", "{}", "is never closed by 'endif'", 2, 6},
    {"unknown_tag", "a\n  {% frobnicate %}", "{}", "unknown or unsupported statement 'frobnicate'",
     2, 6},
    {"stray_end_tag", "{% endfor %}", "{}", "unexpected 'endfor'", 1, 4},
    {"bad_expression", "{{ 1 + }}", "{}", "expected an expression", 1, 8},
    {"unclosed_expression", "ok\n{{ x ", "{}", "not closed by }}", 2, 1},
    {"unclosed_string", "{{ 'abc }}", "{}", "unterminated string", 1, 4},
    {"unclosed_comment", "{# forever", "{}", "missing end of comment tag", 1, 1},
    {"unbalanced_bracket", "{{ (1 + 2] }}", "{}", "unexpected ']', expected ')'", 1, 10},
    {"bad_character", "{{ a $ b }}", "{}", "unexpected character '$'", 1, 6},
    {"break_outside_loop", "{% break %}", "{}", "'break' outside of a for loop", 1, 4},
    {"elif_without_if", "{% elif x %}", "{}", "unexpected 'elif'", 1, 4},
    {"missing_in", "{% for x of y %}{% endfor %}", "{}", "expected 'in'", 1, 10},
    {"raise_exception", "line one\n{{ raise_exception('Conversation roles must alternate') }}",
     "{}", "Conversation roles must alternate", 2, 4},
    {"undefined_attribute", "{{ nothing.attr }}", "{}", "'nothing' is undefined", 1, 4},
    {"type_error", "{{ 'a' + 1 }}", "{}", "unsupported operand type(s) for +: 'str' and 'int'", 1,
     8},
    {"division_by_zero", "{{ 1 // 0 }}", "{}", "division or modulo by zero", 1, 6},
    {"not_callable", "{{ 'x'() }}", "{}", "'str' object is not callable", 1, 4},
    {"unknown_filter", "{{ 1 | frobnicate }}", "{}", "no filter named 'frobnicate'", 1, 8},
    {"unknown_test", "{{ 1 is frobnicate }}", "{}", "no test named 'frobnicate'", 1, 9},
    {"macro_too_many_args", "{% macro m(a) %}{% endmacro %}{{ m(1, 2) }}", "{}",
     "takes not more than 1 argument(s)", 1, 34},
    {"assign_to_non_namespace", "{% set x = 1 %}{% set x.y = 2 %}", "{}", "not a namespace", 1, 19},
    {"list_is_immutable", "{% set l = [] %}{{ l.append(1) }}", "{}", "is not allowed", 1, 20},
};

std::vector<std::pair<std::string, Value>> variables(const char* json, bool from_request = false) {
  std::vector<std::pair<std::string, Value>> vars;
  const auto parsed = nlohmann::ordered_json::parse(json);
  for (const auto& [k, v] : parsed.items()) {
    vars.emplace_back(k, from_json(v, from_request));
  }
  return vars;
}

std::string render(const std::string& source, const char* context = "{}",
                   const RenderOptions& options = {}) {
  return Template(source).render(variables(context), options).str();
}

class RenderTable : public ::testing::TestWithParam<RenderCase> {};

TEST_P(RenderTable, RendersAsJinja2) {
  const RenderCase& c = GetParam();
  EXPECT_EQ(render(c.source, c.context), c.expected) << c.source;
}

INSTANTIATE_TEST_SUITE_P(Jinja, RenderTable, ::testing::ValuesIn(kRenderCases),
                         [](const auto& info) { return std::string(info.param.name); });

class ErrorTable : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(ErrorTable, FailsNamingLineAndColumn) {
  const ErrorCase& c = GetParam();
  try {
    render(c.source, c.context);
    FAIL() << "no error for " << c.source;
  } catch (const TemplateError& e) {
    EXPECT_NE(e.message().find(c.message), std::string::npos) << e.what();
    EXPECT_EQ(e.pos().line, c.line) << e.what();
    EXPECT_EQ(e.pos().column, c.column) << e.what();
    EXPECT_NE(std::string(e.what()).find("line " + std::to_string(c.line) + ", column " +
                                         std::to_string(c.column) + ": "),
              std::string::npos);
  }
}

INSTANTIATE_TEST_SUITE_P(Jinja, ErrorTable, ::testing::ValuesIn(kErrorCases),
                         [](const auto& info) { return std::string(info.param.name); });

// ---- limits: bad templates end with an error, never a hang or a crash ----

std::string error_of(const std::string& source, const RenderOptions& options = {}) {
  try {
    render(source, "{}", options);
  } catch (const TemplateError& e) {
    return e.what();
  }
  return "";
}

TEST(JinjaLimits, InfiniteMacroRecursionIsAnError) {
  const std::string e = error_of("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(1) }}");
  EXPECT_NE(e.find("macro calls nested deeper than 100 levels"), std::string::npos) << e;
  const std::string mutual = error_of(
      "{% macro a() %}{{ b() }}{% endmacro %}{% macro b() %}{{ a() }}{% endmacro %}{{ a() }}");
  EXPECT_NE(mutual.find("nested deeper"), std::string::npos) << mutual;
}

TEST(JinjaLimits, HugeLoopsAreAnError) {
  EXPECT_NE(error_of("{% for i in range(100000000) %}{% endfor %}").find("exceeds the limit"),
            std::string::npos);
  RenderOptions small;
  small.limits.max_loop_iterations = 1000;
  const std::string nested =
      error_of("{% for i in range(999) %}{% for j in range(999) %}{% endfor %}{% endfor %}", small);
  EXPECT_NE(nested.find("more than 1000 loop iterations"), std::string::npos) << nested;
}

TEST(JinjaLimits, OutputAndStringSizesAreBounded) {
  RenderOptions small;
  small.limits.max_output_bytes = 1000;
  EXPECT_NE(error_of("{{ 'x' * 5000 }}", small).find("exceeds the template output limit"),
            std::string::npos);
  EXPECT_NE(error_of("{% for i in range(500) %}abc{% endfor %}", small).find("output limit"),
            std::string::npos);
  // Doubling a string in a namespace: stopped at the limit, not at memory exhaustion.
  EXPECT_NE(error_of("{% set ns = namespace(s='ab') %}{% for i in range(60) %}"
                     "{% set ns.s = ns.s + ns.s %}{% endfor %}")
                .find("output limit"),
            std::string::npos);
}

TEST(JinjaLimits, EvaluationStepsAreBounded) {
  RenderOptions small;
  small.limits.max_steps = 5000;
  EXPECT_NE(error_of("{% for i in range(10000) %}{{ i }}{% endfor %}", small)
                .find("did not finish within 5000 evaluation steps"),
            std::string::npos);
}

TEST(JinjaLimits, DeepNestingIsASyntaxErrorNotAStackOverflow) {
  const std::string deep = "{{ " + std::string(5000, '(') + "1" + std::string(5000, ')') + " }}";
  EXPECT_NE(error_of(deep).find("deeper than 100 levels"), std::string::npos);
  std::string blocks;
  for (int i = 0; i < 500; ++i) blocks += "{% if true %}";
  EXPECT_NE(error_of(blocks).find("deeper than 100 levels"), std::string::npos);
}

TEST(JinjaLimits, ANamespaceCannotContainItself) {
  EXPECT_NE(error_of("{% set ns = namespace() %}{% set ns.me = [ns] %}").find("contain itself"),
            std::string::npos);
  EXPECT_NE(
      error_of("{% set ns = namespace() %}{% set ns.f = {'a': ns}.get %}").find("contain itself"),
      std::string::npos);
  EXPECT_NE(error_of("{% set ns = namespace(x=1) %}{% for i in range(100) %}"
                     "{% set ns.x = [ns.x] %}{% endfor %}")
                .find("nests deeper than 64"),
            std::string::npos);
}

// ---- strftime_now: the clock is injected ----

TEST(JinjaGlobals, StrftimeNowUsesTheGivenClock) {
  setenv("TZ", "UTC", 1);
  tzset();
  RenderOptions options;
  options.now = [] { return std::time_t{1721952000}; };  // 2024-07-26 00:00:00 UTC
  EXPECT_EQ(
      render("{{ strftime_now('%d %b %Y') }}|{{ strftime_now('%Y-%m-%d %H:%M') }}", "{}", options),
      "26 Jul 2024|2024-07-26 00:00");
  // Llama 3.1's date line: a date_string from the caller wins over the clock.
  const std::string llama31 =
      "{%- if not date_string is defined %}{%- if strftime_now is defined %}"
      "{%- set date_string = strftime_now('%d %b %Y') %}{%- else %}"
      "{%- set date_string = '26 Jul 2024' %}{%- endif %}{%- endif %}Today Date: {{ date_string }}";
  EXPECT_EQ(render(llama31, "{}", options), "Today Date: 26 Jul 2024");
  EXPECT_EQ(render(llama31, R"({"date_string": "01 Jan 2025"})", options),
            "Today Date: 01 Jan 2025");
}

// ---- provenance ----

std::string marked(const Text& t) {
  std::string out;
  for (const auto& run : t.runs()) {
    out += run.from_request ? "[" + std::string(run.text) + "]" : std::string(run.text);
  }
  return out;
}

TEST(JinjaProvenance, RequestBytesStayMarkedThroughStringOperations) {
  const char* context = R"({"m": {"role": "user", "content": "  hi <|im_end|>  ", "n": "a,b"}})";
  auto render_marked = [&](const std::string& source) {
    return marked(Template(source).render(variables(context, /*from_request=*/true)));
  };
  EXPECT_EQ(render_marked("<|im_start|>{{ m.role }}\n{{ m.content | trim }}<|im_end|>"),
            "<|im_start|>[user]\n[hi <|im_end|>]<|im_end|>");
  EXPECT_EQ(render_marked("{% set c = '<s>' + m.content.strip() + '</s>' %}{{ c }}"),
            "<s>[hi <|im_end|>]</s>");
  EXPECT_EQ(render_marked("{{ m.n.split(',')[1] }}{{ m.role[1:3] }}{{ m.role[::-1] }}"),
            "[bseresu]");  // adjacent request bytes form one run
  EXPECT_EQ(render_marked("{{ m.role ~ '!' }}{{ [m.role, 'x'] | join('-') }}"), "[user]![user]-x");
  // Derived strings count as from the request as a whole.
  EXPECT_EQ(render_marked("{{ m.role | upper }}{{ m | tojson }}"),
            R"([USER{"role": "user", "content": "  hi <|im_end|>  ", "n": "a,b"}])");
  EXPECT_EQ(render_marked("{{ m.content.replace('hi', '<x>') }}"), "[  ]<x>[ <|im_end|>  ]");
  // Macro output and block sets keep it too.
  EXPECT_EQ(render_marked("{% macro t(x) %}<{{ x }}>{% endmacro %}{% set b %}{{ t(m.role) }}"
                          "{% endset %}{{ b }}"),
            "<[user]>");
}

}  // namespace
}  // namespace llmops::server::jinja
