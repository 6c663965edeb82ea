// The router must be invisible to a streaming client: the official openai client gets the
// same chunks through llmops-router as from the runtime directly (greedy, so the texts
// are deterministic), the stream ends with [DONE], and the raw SSE events are the same
// apart from their id and created fields.
// usage: node router_stream_check.mjs ROUTER_PORT RUNTIME_PORT MODEL_NAME
import assert from "node:assert/strict";
import OpenAI from "openai";

const [routerPort, runtimePort, model] = process.argv.slice(2);
if (!routerPort || !runtimePort || !model) {
  console.error("usage: node router_stream_check.mjs ROUTER_PORT RUNTIME_PORT MODEL_NAME");
  process.exit(2);
}
const client = (port) =>
  new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: "unused", maxRetries: 0, timeout: 60_000 });

async function chatChunks(port) {
  const stream = await client(port).chat.completions.create({
    model,
    messages: [{ role: "user", content: "Tell me about a little robot." }],
    max_tokens: 30,
    temperature: 0,
    stream: true,
  });
  const chunks = [];
  for await (const chunk of stream) {
    chunks.push(chunk.choices.map((c) => [c.delta?.role ?? null, c.delta?.content ?? null, c.finish_reason]));
  }
  return chunks;
}

async function completionChunks(port) {
  const stream = await client(port).completions.create({
    model, prompt: "Once upon a time", max_tokens: 30, temperature: 0, stream: true,
  });
  const chunks = [];
  for await (const chunk of stream) chunks.push(chunk.choices.map((c) => [c.text, c.finish_reason]));
  return chunks;
}

// The raw events, with the per-request fields blanked.
async function rawEvents(port) {
  const response = await fetch(`http://127.0.0.1:${port}/v1/completions`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ model, prompt: "The robot", max_tokens: 20, temperature: 0, stream: true }),
  });
  assert.equal(response.status, 200);
  const text = await response.text();
  const events = text.split("\n\n").filter((e) => e.length > 0);
  return {
    revision: response.headers.get("x-llmops-revision"),
    events: events.map((e) => {
      assert.ok(e.startsWith("data: "), `not an SSE data event: ${e}`);
      const data = e.slice(6);
      if (data === "[DONE]") return data;
      const parsed = JSON.parse(data);
      delete parsed.id;
      delete parsed.created;
      return JSON.stringify(parsed);
    }),
  };
}

const direct = await chatChunks(runtimePort);
const routed = await chatChunks(routerPort);
assert.ok(direct.length > 2, `too few chunks: ${direct.length}`);
assert.deepEqual(routed, direct);
console.log(`chat: ${routed.length} chunks, identical`);

const directCompletion = await completionChunks(runtimePort);
const routedCompletion = await completionChunks(routerPort);
assert.deepEqual(routedCompletion, directCompletion);
console.log(`completion: ${routedCompletion.length} chunks, identical`);

const rawDirect = await rawEvents(runtimePort);
const rawRouted = await rawEvents(routerPort);
assert.equal(rawDirect.revision, null);
assert.ok(rawRouted.revision && rawRouted.revision !== "none", `x-llmops-revision: ${rawRouted.revision}`);
assert.equal(rawRouted.events.at(-1), "[DONE]");
assert.deepEqual(rawRouted.events, rawDirect.events);
console.log(`raw SSE: ${rawRouted.events.length} events identical, revision ${rawRouted.revision}`);
