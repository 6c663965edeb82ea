// Drives a running `llmops-runtime serve --api-key KEY` with the official openai client:
// models.list(), a non-streamed and a streamed chat completion (same greedy request: the
// stream's deltas must add up to the whole answer), and a wrong key rejected with 401.
// usage: node chat_check.mjs PORT API_KEY MODEL_NAME
import assert from "node:assert/strict";
import OpenAI from "openai";

const [port, apiKey, modelName] = process.argv.slice(2);
if (!port || !apiKey || !modelName) {
  console.error("usage: node chat_check.mjs PORT API_KEY MODEL_NAME");
  process.exit(2);
}
const baseURL = `http://127.0.0.1:${port}/v1`;
const client = new OpenAI({ baseURL, apiKey, maxRetries: 0, timeout: 60_000 });

const models = await client.models.list();
assert.equal(models.data.length, 1, `models: ${JSON.stringify(models.data)}`);
assert.equal(models.data[0].id, modelName);
assert.equal(models.data[0].object, "model");

const request = {
  model: modelName,
  messages: [
    { role: "system", content: "You tell short stories." },
    { role: "user", content: "Tell me about a little robot." },
  ],
  max_tokens: 40,
  temperature: 0,
};

const whole = await client.chat.completions.create(request);
console.log("non-streamed:", JSON.stringify(whole));
assert.equal(whole.object, "chat.completion");
assert.equal(typeof whole.id, "string");
assert.equal(whole.model, modelName);
assert.equal(whole.choices.length, 1);
const choice = whole.choices[0];
assert.equal(choice.index, 0);
assert.equal(choice.message.role, "assistant");
assert.equal(typeof choice.message.content, "string");
assert.ok(choice.message.content.length > 0, "empty content");
assert.ok(["stop", "length"].includes(choice.finish_reason),
  `finish_reason ${choice.finish_reason}`);
const usage = whole.usage;
for (const key of ["prompt_tokens", "completion_tokens", "total_tokens"]) {
  assert.ok(Number.isInteger(usage[key]) && usage[key] > 0, `usage.${key} = ${usage[key]}`);
}
assert.equal(usage.total_tokens, usage.prompt_tokens + usage.completion_tokens);
assert.ok(usage.completion_tokens <= request.max_tokens,
  `completion_tokens ${usage.completion_tokens} > max_tokens`);

const stream = await client.chat.completions.create({
  ...request,
  stream: true,
  stream_options: { include_usage: true },
});
let content = "";
let role;
let finishReason;
let streamUsage;
let chunks = 0;
for await (const chunk of stream) {
  ++chunks;
  assert.equal(chunk.object, "chat.completion.chunk");
  assert.equal(chunk.model, modelName);
  if (chunk.usage) streamUsage = chunk.usage;
  for (const c of chunk.choices) {
    if (c.delta.role) role = c.delta.role;
    if (c.delta.content) content += c.delta.content;
    if (c.finish_reason) finishReason = c.finish_reason;
  }
}
console.log(`streamed: ${chunks} chunks, ${JSON.stringify(content)}, finish ${finishReason}`);
assert.equal(role, "assistant");
assert.equal(content, choice.message.content, "stream deltas differ from the whole answer");
assert.equal(finishReason, choice.finish_reason);
assert.deepEqual(streamUsage, usage, "the stream's usage chunk differs from the whole answer's");

const intruder = new OpenAI({ baseURL, apiKey: `${apiKey}-wrong`, maxRetries: 0 });
await assert.rejects(intruder.models.list(),
  (e) => e instanceof OpenAI.AuthenticationError && e.status === 401);
await assert.rejects(intruder.chat.completions.create(request), (e) => e.status === 401);

console.log("openai client checks passed");
