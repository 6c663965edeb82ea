#!/usr/bin/env node
// Writes the tokenizer test corpus: a JSON array of strings (default 2400), the same
// every run (a fixed seed), for tokenizer_agreement.sh.
//
//   node tokenizer_corpus.mjs OUT.json [COUNT]
//
// Hand-written cases (many scripts, emoji, code, numbers, whitespace and newline runs,
// contractions, special-token look-alikes of every vocabulary we test) and random
// mixtures of fragments from the same pools. Characters are those of Unicode 14 or
// older (our tables' version); U+0085 and U+FEFF are left out: the two oracles disagree
// on whether they are whitespace (\s in JavaScript vs. Unicode White_Space).
import { writeFileSync } from "node:fs";

const out = process.argv[2];
const count = Number.parseInt(process.argv[3] ?? "2400", 10);
if (!out || !(count > 0)) {
  process.stderr.write("usage: tokenizer_corpus.mjs OUT.json [COUNT]\n");
  process.exit(2);
}

const fixed = [
  "Hello world", "Hello, world!", "hello", " hello", "  hello", "hello ", "hello  ", "HELLO",
  "The quick brown fox jumps over the lazy dog.", "It's, I'm, you're, we've, they'll, he'd",
  "IT'S I'M YOU'RE WE'VE THEY'LL HE'D", "it 's 'tis 'twas rock'n'roll", "don't", "DON'T",
  "Zwölf Boxkämpfer jagen Viktor quer über den großen Sylter Deich.",
  "Voix ambiguë d'un cœur qui, au zéphyr, préfère les jattes de kiwis.",
  "El pingüino Wenceslao hizo kilómetros bajo exhaustiva lluvia y frío, añoraba a su querido cachorro.",
  "Съешь же ещё этих мягких французских булок, да выпей чаю.",
  "Τάχιστη αλώπηξ βαφής ψημένη γη, δρασκελίζει υπέρ νωθρού κυνός",
  "איך בלש תפס גמד רוצח עז קטנה?", "نص حكيم له سر قاطع وذو شأن عظيم مكتوب على ثوب أخضر ومغلف بجلد أزرق",
  "ऋषियों को सताने वाले दुष्ट राक्षसों के राजा रावण का सर्वनाश करने वाले विष्णुवतार भगवान श्रीराम",
  "เป็นมนุษย์สุดประเสริฐเลิศคุณค่า", "いろはにほへと ちりぬるを わかよたれそ つねならむ",
  "色は匂へど散りぬるを我が世誰ぞ常ならむ", "我能吞下玻璃而不伤身体。", "天地玄黄，宇宙洪荒。",
  "키스의 고유조건은 입술끼리 만나야 하고 특별한 기술은 필요치 않다.",
  "Ἐν ἀρχῇ ἦν ὁ λόγος", "Příliš žluťoučký kůň úpěl ďábelské ódy.", "Pchnąć w tę łódź jeża lub ośm skrzyń fig.",
  "Kæmi ný öxi hér, ykist þjófum nú bæði víl og ádrepa.", "ქართული ენა", "Հայերեն լեզու", "ᚠᛇᚻ᛫ᛒᛦᚦ",
  "🙂", "🙂🙂🙂", "👩‍💻", "👨‍👩‍👧‍👦 family", "🇫🇷🇩🇪🇯🇵", "👍🏽 thumbs", "❤️", "✌️ peace", "🤖 robot 🚀",
  "emoji🙂inside", "😀😃😄😁😆😅😂🤣", "1️⃣2️⃣3️⃣", "🏳️‍🌈",
  "0", "1", "12", "123", "1234", "12345", "123456", "1234567", "12345678901234567890",
  "3.14159", "-42", "+7", "1,000,000", "1.000.000,50", "2024-01-15", "12:34:56", "1e10", "0x1F",
  "v1.2.3", "$100", "€50", "¥1000", "50%", "½ ¼ ¾", "²³¹", "Ⅷ Ⅻ", "٣٤٥", "१२३", "४५६७", "１２３４５",
  "a1b2c3", "abc123def", "x=42;y=7", "1st 2nd 3rd 4th",
  "def f(x):\n    return x * 2\n", "int main() { return 0; }", "for (int i = 0; i < n; ++i) {\n\tsum += a[i];\n}",
  "if (a && b || !c) x->y = z[0];", "console.log(`template ${x}`);", "SELECT * FROM users WHERE id = 1;",
  "<html><body><p>Hi</p></body></html>", "{\"key\": [1, 2, 3], \"nested\": {\"a\": null}}",
  "#include <stdio.h>", "x += 1  # comment", "λx.x + 1", "a != b && c >= d || e <= f", "i++; j--;",
  "path/to/file.txt", "C:\\Windows\\System32", "https://example.com/a?b=c&d=e#f", "user@example.com",
  "git commit -m \"fix: bug\"", "```python\nprint('hi')\n```", "$ ls -la | grep foo > out.txt",
  " ", "  ", "   ", "    ", "\t", "\t\t", "\n", "\n\n", "\n\n\n", "\r\n", "\r\n\r\n", " \n", "\n ", " \n ",
  "a\nb", "a\n\nb", "a \n b", "a\t\tb", "a  b", "a   b", "a\r\nb", "\u00a0", "a\u00a0b", "\u3000", "a\u3000b",
  "\u2003em space", "tab\tand\nnewline", "trailing   ", "   leading", "  both  ", "\n\n\nx\n\n\n",
  "line1\nline2\nline3", "    indented\n        more", " \t \n \t ", "x \t\n",
  "<s>", "</s>", "<unk>", "<s>hello</s>", "<s> <s>", "[INST] hi [/INST]", "<<SYS>>",
  "<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>", "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>",
  "<|reserved_special_token_5|>", "<|eom_id|>", "<|python_tag|>",
  "<|im_start|>", "<|im_end|>", "<|im_start|>user\nhello<|im_end|>\n<|im_start|>assistant\n", "<|endoftext|>",
  "<think>reasoning</think>", "<tool_call>{}</tool_call>", "<|fim_prefix|>code<|fim_suffix|>",
  "<bos>", "<eos>", "<pad>", "<start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\n", "<end_of_turn>",
  "<mask>", "[multimodal]", "<unused0>", "<unused42>", "<start_of_image>", "<image_soft_token>",
  "<|im_end", "|im_end|>", "<|im_end|", "<im_end>", "< |im_end| >", "<|IM_END|>", "<|eot_id", "<start_of_turn",
  "<|im_end|><|im_end|>", "a<|im_end|>b", "x<s>y", "<<|im_end|>>", "<|<|im_end|>|>", "<0x41>", "<0xZZ>",
  "the the the the", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "ababababababababab", "!!!!!!!!!!", "??!?!", "...",
  "—", "–", "…", "«quotes»", "“smart quotes”", "‘single’", "„low“", "¿Qué?", "¡Hola!", "、。「」",
  "→ ← ↑ ↓", "∀x∈ℝ: x² ≥ 0", "∑∫∂√∞", "★☆♠♣♥♦", "©®™", "°C", "±", "×÷", "…and so on…",
  "café", "naïve", "résumé", "Straße", "İstanbul", "ǅemal", "ﬁ ligature", "ÅÄÖ åäö",
  "e\u0301", "a\u0308\u0301", "n\u0303", "\u0301alone", "Z\u0351\u0352\u0353algo",
  "MiXeD CaSe WoRdS", "camelCaseIdentifier", "snake_case_name", "kebab-case-name", "SCREAMING_SNAKE",
  "'", "''", "'s", "'S", "'ll", "'LL", "'re", "'Re", " 's", "x's", "X'S", "'sa", "''s", "'d've",
  "A.B.C.", "U.S.A.", "e.g.", "i.e.", "Mr. Smith", "Dr.", "St. Louis",
  "😀 Hello\n\n  世界 123 'tis\t!", "日本語のテキストと English の混在 123",
  "Привет, мир! Hello, world! 你好，世界！", "مرحبا بالعالم 123", "שלום עולם", "γειά σου κόσμε",
];

// A deterministic generator (mulberry32).
let state = 0x2f6b3c1d;
function random() {
  state = (state + 0x6d2b79f5) | 0;
  let t = Math.imul(state ^ (state >>> 15), 1 | state);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = (a) => a[Math.floor(random() * a.length)];

const pools = {
  word: ["the", "The", "robot", "Robot", "language", "model", "tokenizer", "quick", "brown", "fox",
    "hello", "world", "café", "Straße", "naïve", "мир", "Привет", "данные", "κόσμε", "λόγος",
    "世界", "模型", "数据", "日本", "テスト", "ひらがな", "한국어", "데이터", "مرحبا", "שלום", "नमस्ते",
    "ไทย", "ქართ", "Ελλάδα", "İzmir", "ǅ", "ﬁnd", "x", "I", "a", "Z", "AI", "GPU", "LLM", "GGUF"],
  number: ["0", "7", "42", "123", "2024", "12345", "3.14", "1,000", "-1", "1e-5", "007", "٣", "१२", "１２",
    "Ⅳ", "½", "99999999"],
  space: [" ", " ", " ", "  ", "   ", "\t", "\n", "\n\n", "\r\n", " \n", "\n ", "\t\n", "\u00a0", "\u3000",
    "\u2009", "    ", "\n\n\n"],
  punct: [".", ",", "!", "?", ";", ":", "'", "\"", "(", ")", "[", "]", "{", "}", "-", "—", "…", "...", "!!",
    "?!", "#", "@", "$", "%", "^", "&", "*", "+", "=", "<", ">", "|", "~", "`", "/", "\\", "_", "«", "»",
    "、", "。", "¿", "¡", "§", "•"],
  emoji: ["🙂", "😂", "🤖", "🚀", "👍🏽", "👩‍💻", "🇯🇵", "❤️", "✨", "🔥", "🎉", "🐍", "☕", "⭐", "1️⃣"],
  code: ["()", "{}", "[]", "=>", "->", "::", "==", "!=", "<=", ">=", "&&", "||", "++", "--", "+=", "/*",
    "*/", "//", "#!", "0x", "\\n", "\\t", "def", "int", "return", "fn", "let", "const", "self.x",
    "a[i]", "f(x)", "std::vector<int>", "i++", "x_1", "__init__", "${x}", "$HOME"],
  contraction: ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "'T", "'RE", "'VE", "'M", "'LL", "'D",
    "n't", "'Ll"],
  special: ["<s>", "</s>", "<unk>", "<|begin_of_text|>", "<|eot_id|>", "<|start_header_id|>",
    "<|end_header_id|>", "<|im_start|>", "<|im_end|>", "<|endoftext|>", "<think>", "</think>",
    "<bos>", "<eos>", "<start_of_turn>", "<end_of_turn>", "<mask>", "<unused3>", "<|im_end",
    "im_end|>", "<|", "|>", "<start_of", "[INST]", "<<SYS>>", "<0x41>"],
};
const kinds = Object.keys(pools);
const weights = { word: 6, number: 2, space: 4, punct: 2, emoji: 1, code: 1, contraction: 1, special: 1 };
const bag = kinds.flatMap((k) => Array(weights[k]).fill(k));

const corpus = [...fixed];
const seen = new Set(corpus);
while (corpus.length < count) {
  const n = 1 + Math.floor(random() * 10);
  let s = "";
  for (let i = 0; i < n; i++) s += pick(pools[pick(bag)]);
  if (!seen.has(s)) {
    seen.add(s);
    corpus.push(s);
  }
}
writeFileSync(out, JSON.stringify(corpus));
process.stderr.write(`wrote ${corpus.length} strings to ${out}\n`);
