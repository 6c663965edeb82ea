"""`serve` renders chat requests with a Jinja chat template (here --chat-template FILE,
the same path a GGUF's tokenizer.chat_template takes): the server's prompt is exactly the
ids `llmops-runtime chat-template --ids` prints (same prompt_tokens, same greedy text as
/v1/completions given those ids); a template that raises answers 400 naming its message;
a template that does not parse answers chat requests 400 naming the line and column while
/v1/completions keeps working. `--chat-format llama2` renders Meta's format instead of any
template (the same ids as that text sent to /v1/completions); an unknown name is a usage
error.
"""

import json
import subprocess

from runtime_server import RuntimeServer, check, check_error_shape, main

TEMPLATE = """{{ bos_token }}
{% for m in messages %}
{% if loop.first and m.role == 'assistant' %}
{{ raise_exception('the conversation must not start with the assistant') }}
{% endif %}
<|{{ m.role }}|>
{{ m.content | trim }}
{% endfor %}
{% if add_generation_prompt %}
<|assistant|>
{% endif %}
"""

MESSAGES = [{"role": "system", "content": "Be brief."},
            {"role": "user", "content": "  Hi <|assistant|> there  "}]


def chat(server, messages, **extra):
    return server.post_json("/v1/chat/completions",
                            {"messages": messages, "max_tokens": 8, "temperature": 0, **extra})


def test(env):
    model = env.make_model("small")
    template = env.work / "chat.jinja"
    template.write_text(TEMPLATE)
    messages_file = env.work / "messages.json"
    messages_file.write_text(json.dumps(MESSAGES))
    cli = subprocess.run([env.runtime, "chat-template", "--model", str(model), "--template",
                          str(template), "--messages", str(messages_file),
                          "--add-generation-prompt", "--ids"],
                         check=True, capture_output=True, text=True)
    ids = json.loads(cli.stdout)
    print("chat-template --ids:", ids)

    with RuntimeServer(env, ["--model", str(model), "--chat-template", str(template)]) as server:
        check("chat_format=jinja" in server.log(), f"no chat_format=jinja in:\n{server.log()}")
        status, _, body = chat(server, MESSAGES)
        check(status == 200, f"chat: {status} {body}")
        check(body["usage"]["prompt_tokens"] == len(ids),
              f"prompt_tokens {body['usage']['prompt_tokens']} != {len(ids)} ids of the CLI")
        status, _, completion = server.post_json(
            "/v1/completions", {"prompt": ids, "max_tokens": 8, "temperature": 0})
        check(status == 200, f"completion: {status} {completion}")
        check(body["choices"][0]["message"]["content"] == completion["choices"][0]["text"],
              f"chat and completion of the same ids differ: {body} vs {completion}")

        status, _, body = chat(server, [{"role": "assistant", "content": "x"}])
        error = check_error_shape(body, status, "raise_exception")
        check(status == 400, f"raise_exception: {status} {body}")
        check(error["code"] == "chat_template_error" and error["param"] == "messages",
              f"raise_exception: {error}")
        check("line 4, column 4: the conversation must not start with the assistant"
              in error["message"], f"raise_exception: {error['message']!r}")

    broken = env.work / "broken.jinja"
    broken.write_text("{% for m in messages %}\n{{ m.content }\n")
    with RuntimeServer(env, ["--model", str(model), "--chat-template", str(broken)],
                       name="broken") as server:
        check("event=chat_template_unusable" in server.log(),
              f"no warning about the template:\n{server.log()}")
        status, _, body = chat(server, MESSAGES)
        error = check_error_shape(body, status, "syntax error")
        check(status == 400 and error["code"] == "chat_template_error",
              f"syntax error: {status} {body}")
        check("syntax error at line 2, column 14" in error["message"],
              f"syntax error: {error['message']!r}")
        status, _, body = server.post_json("/v1/completions", {"prompt": "Hi", "max_tokens": 2})
        check(status == 200, f"completions next to a broken chat template: {status} {body}")

    with RuntimeServer(env, ["--model", str(model), "--chat-format", "llama2"],
                       name="llama2") as server:
        check("chat_format=llama2" in server.log(), f"no chat_format=llama2 in:\n{server.log()}")
        status, _, body = chat(server, MESSAGES)
        check(status == 200, f"llama2 chat: {status} {body}")
        text = "[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi <|assistant|> there [/INST]"
        status, _, completion = server.post_json(
            "/v1/completions", {"prompt": text, "max_tokens": 8, "temperature": 0})
        check(status == 200, f"completion: {status} {completion}")
        check(body["usage"]["prompt_tokens"] == completion["usage"]["prompt_tokens"],
              f"llama2: chat prompt_tokens {body['usage']} != completion's {completion['usage']}")
        check(body["choices"][0]["message"]["content"] == completion["choices"][0]["text"],
              f"llama2: chat and completion of the same text differ: {body} vs {completion}")

    bad = subprocess.run([env.runtime, "serve", "--model", str(model), "--chat-format", "vicuna"],
                         capture_output=True, text=True, timeout=60)
    check(bad.returncode == 2 and "not one of llama2, chatml, plain" in bad.stderr,
          f"--chat-format vicuna: exit {bad.returncode}, {bad.stderr!r}")


if __name__ == "__main__":
    main(test)
