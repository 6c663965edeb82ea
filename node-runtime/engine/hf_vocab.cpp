#include "hf_vocab.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "errors.h"

namespace llmops::engine {

namespace {

using nlohmann::json;
namespace fs = std::filesystem;

// The Split regexes of the pre-tokenizers we implement, as tokenizer.json spells them.
constexpr std::string_view kLlama3Regex =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| "
    "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
constexpr std::string_view kQwen2Regex =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| "
    "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
constexpr std::string_view kSpmSpace = "\xE2\x96\x81";

json read_json(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ModelError(path.string() + ": cannot open");
  try {
    return json::parse(in);
  } catch (const json::exception& e) {
    throw ModelError(path.string() + ": not valid JSON: " + e.what());
  }
}

// Objects of a given "type" anywhere in a (Sequence of) pre-tokenizers/normalizers.
void collect(const json& node, const char* list_key, std::vector<const json*>& out) {
  if (!node.is_object()) return;
  out.push_back(&node);
  if (node.contains(list_key) && node[list_key].is_array()) {
    for (const json& child : node[list_key]) collect(child, list_key, out);
  }
}

std::string type_of(const json& node) {
  return node.is_object() && node.contains("type") && node["type"].is_string()
             ? node["type"].get<std::string>()
             : "";
}

bool looks_special(const std::string& t) {
  const auto starts = [&](std::string_view p) { return t.rfind(p, 0) == 0; };
  const auto ends = [&](std::string_view p) {
    return t.size() >= p.size() && t.compare(t.size() - p.size(), p.size(), p) == 0;
  };
  return t == "<pad>" || t == "<mask>" || t == "<2mass>" || t == "[@BOS@]" || t == "[multimodal]" ||
         (starts("<|") && ends("|>")) || (starts("<unused") && ends(">"));
}

bool is_byte_piece(const std::string& p) {
  const auto hex = [](char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'); };
  return p.size() == 6 && p.compare(0, 3, "<0x") == 0 && hex(p[3]) && hex(p[4]) && p[5] == '>';
}

// A special token's text in tokenizer_config.json: a string or {"content": ...}.
std::string token_text(const json& config, const char* key) {
  if (!config.contains(key)) return "";
  const json& v = config[key];
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.contains("content") && v["content"].is_string()) {
    return v["content"].get<std::string>();
  }
  return "";
}

}  // namespace

HfTokenizer load_hf_tokenizer(const std::string& path) {
  fs::path file = path;
  std::error_code ec;
  if (fs::is_directory(file, ec)) file /= "tokenizer.json";
  const std::string name = file.string();
  const auto fail = [&](const std::string& what) { throw ModelError(name + ": " + what); };
  const json tok = read_json(file);
  json config = json::object();
  const fs::path config_path = file.parent_path() / "tokenizer_config.json";
  if (fs::exists(config_path, ec)) config = read_json(config_path);
  if (!tok.is_object() || !tok.contains("model") || !tok["model"].is_object()) {
    fail("no \"model\" object (not a Hugging Face tokenizer.json)");
  }
  const json& model = tok["model"];
  if (type_of(model) != "BPE") {
    fail("model type \"" + type_of(model) + "\" is not supported (supported: BPE)");
  }
  if (!model.contains("vocab") || !model["vocab"].is_object()) fail("model.vocab is not an object");

  // Pieces by id: the model's vocabulary and the added tokens (which may extend it).
  std::map<int64_t, std::string> by_id;
  for (const auto& [piece, id] : model["vocab"].items()) {
    if (!id.is_number_integer() || id.get<int64_t>() < 0)
      fail("model.vocab[\"" + piece + "\"] is not an id");
    by_id[id.get<int64_t>()] = piece;
  }
  struct Added {
    std::string content;
    bool special;
  };
  std::map<int64_t, Added> added;
  if (tok.contains("added_tokens") && tok["added_tokens"].is_array()) {
    for (const json& a : tok["added_tokens"]) {
      if (!a.is_object() || !a.contains("id") || !a["id"].is_number_integer() ||
          !a.contains("content") || !a["content"].is_string()) {
        fail("an added_tokens entry lacks an integer id or a string content");
      }
      const int64_t id = a["id"].get<int64_t>();
      if (id < 0) fail("added token id " + std::to_string(id) + " is negative");
      added[id] = {a["content"].get<std::string>(), a.value("special", false)};
      by_id[id] = a["content"].get<std::string>();
    }
  }
  if (by_id.empty()) fail("the vocabulary is empty");
  const int64_t n = by_id.rbegin()->first + 1;
  if (n > (int64_t{1} << 22)) fail("ids go up to " + std::to_string(n - 1) + ", too many tokens");

  HfTokenizer out;
  Vocab& v = out.vocab;
  const bool byte_fallback = model.value("byte_fallback", false);
  std::vector<const json*> pre_nodes;
  if (tok.contains("pre_tokenizer")) collect(tok["pre_tokenizer"], "pretokenizers", pre_nodes);
  bool byte_level = false;
  std::string split_regex;
  for (const json* p : pre_nodes) {
    if (type_of(*p) == "ByteLevel") byte_level = true;
    if (type_of(*p) == "Split" && p->contains("pattern") && (*p)["pattern"].contains("Regex")) {
      split_regex = (*p)["pattern"]["Regex"].get<std::string>();
    }
  }
  if (byte_level && !byte_fallback) {
    v.model = VocabModel::BytePairEncoding;
    if (split_regex == kLlama3Regex) {
      v.pre = PreTokenizer::Llama3;
    } else if (split_regex == kQwen2Regex) {
      v.pre = PreTokenizer::Qwen2;
    } else if (split_regex.empty()) {
      v.pre = PreTokenizer::Gpt2;
    } else {
      fail("the pre-tokenizer's Split regex is not one we implement (" +
           supported_pre_tokenizers() + "): " + split_regex);
    }
  } else if (byte_fallback && !byte_level) {
    v.model = VocabModel::SentencePiece;
  } else {
    fail(
        "neither byte-level BPE (a ByteLevel pre-tokenizer) nor SentencePiece-style BPE "
        "(byte_fallback over \"\xE2\x96\x81\"): not supported");
  }
  v.spm_flavour = SpmFlavour::LlamaCpp;

  // Merges: "a b" strings or ["a", "b"] pairs.
  std::vector<std::string> merges;
  if (model.contains("merges") && model["merges"].is_array()) {
    merges.reserve(model["merges"].size());
    for (const json& m : model["merges"]) {
      if (m.is_string()) {
        merges.push_back(m.get<std::string>());
      } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
        merges.push_back(m[0].get<std::string>() + " " + m[1].get<std::string>());
      } else {
        fail("model.merges[" + std::to_string(merges.size()) + "] is neither \"a b\" nor [a, b]");
      }
    }
  }

  const std::string unk = model.contains("unk_token") && model["unk_token"].is_string()
                              ? model["unk_token"].get<std::string>()
                              : token_text(config, "unk_token");
  v.pieces.resize(static_cast<size_t>(n));
  v.types.assign(static_cast<size_t>(n), TokenType::Normal);
  v.scores.assign(static_cast<size_t>(n), 0.0f);
  std::unordered_map<std::string, int32_t> id_of;
  for (int64_t i = 0; i < n; ++i) {
    const auto it = by_id.find(i);
    auto& piece = v.pieces[static_cast<size_t>(i)];
    auto& type = v.types[static_cast<size_t>(i)];
    if (it == by_id.end()) {  // a hole in the ids, as llama.cpp's converter pads it
      piece = "[PAD" + std::to_string(i) + "]";
      type = TokenType::Unused;
      continue;
    }
    piece = it->second;
    id_of.emplace(piece, static_cast<int32_t>(i));
    if (const auto a = added.find(i); a != added.end()) {
      type =
          a->second.special || looks_special(piece) ? TokenType::Control : TokenType::UserDefined;
    } else if (v.model == VocabModel::SentencePiece && is_byte_piece(piece)) {
      type = TokenType::Byte;
    }
    if (!unk.empty() && piece == unk) type = TokenType::Unknown;
  }

  const auto split_merge = [&](size_t rank, const std::string& m) {
    const size_t space = m.size() > 1 ? m.find(' ', 1) : std::string::npos;
    if (space == std::string::npos || space + 1 >= m.size()) {
      fail("merge " + std::to_string(rank) + " \"" + m +
           "\" is not two pieces separated by a space");
    }
    return std::pair<std::string, std::string>(m.substr(0, space), m.substr(space + 1));
  };
  if (v.model == VocabModel::BytePairEncoding) {
    // Checked here for a message naming the file; the Tokenizer checks again on load.
    for (size_t r = 0; r < merges.size(); ++r) {
      const auto [a, b] = split_merge(r, merges[r]);
      for (const std::string& part : {a, b, a + b}) {
        if (!id_of.count(part)) {
          fail("merge " + std::to_string(r) + " \"" + merges[r] + "\" references \"" + part +
               "\", which is not a token");
        }
      }
    }
    v.merges = std::move(merges);
  } else {
    // SentencePiece scores from the merge order: a piece made by merge r scores -r (its
    // first merge), so llama.cpp's best-score-first merging follows the merge ranks.
    for (size_t r = 0; r < merges.size(); ++r) {
      const auto [a, b] = split_merge(r, merges[r]);
      for (const std::string& part : {a, b}) {
        if (!id_of.count(part)) {
          fail("merge " + std::to_string(r) + " \"" + merges[r] + "\" references \"" + part +
               "\", which is not a token");
        }
      }
      const auto it = id_of.find(a + b);
      if (it == id_of.end()) {
        fail("merge " + std::to_string(r) + " \"" + merges[r] + "\" makes \"" + a + b +
             "\", which is not a token");
      }
      float& score = v.scores[static_cast<size_t>(it->second)];
      if (score == 0.0f) score = -static_cast<float>(r + 1);
    }
    // The space prefix: only when the normalizer prepends "▁" (Llama 2, not Gemma).
    std::vector<const json*> norms;
    if (tok.contains("normalizer")) collect(tok["normalizer"], "normalizers", norms);
    v.add_space_prefix = false;
    for (const json* nn : norms) {
      if (type_of(*nn) == "Prepend" && nn->value("prepend", "") == kSpmSpace)
        v.add_space_prefix = true;
    }
  }

  const auto id_or = [&](const std::string& text, const char* what) -> int32_t {
    if (text.empty()) return -1;
    const auto it = id_of.find(text);
    if (it == id_of.end()) fail(std::string(what) + " \"" + text + "\" is not a token");
    return it->second;
  };
  v.bos_id = id_or(token_text(config, "bos_token"), "bos_token");
  v.eos_id = id_or(token_text(config, "eos_token"), "eos_token");
  v.unk_id = id_or(unk, "unk_token");
  v.eot_id = -1;
  v.eom_id = -1;

  // add_bos: the config's flag, else the post-processor's template, else llama.cpp's
  // default for the pre-tokenizer (Llama 3 adds BOS).
  bool template_bos = false;
  std::vector<const json*> procs;
  if (tok.contains("post_processor")) collect(tok["post_processor"], "processors", procs);
  for (const json* p : procs) {
    if (type_of(*p) != "TemplateProcessing" || !p->contains("single")) continue;
    const json& single = (*p)["single"];
    if (single.is_array() && !single.empty() && single[0].contains("SpecialToken") &&
        v.bos_id >= 0 &&
        single[0]["SpecialToken"].value("id", "") == v.pieces[static_cast<size_t>(v.bos_id)]) {
      template_bos = true;
    }
  }
  if (config.contains("add_bos_token") && config["add_bos_token"].is_boolean()) {
    v.add_bos = config["add_bos_token"].get<bool>();
  } else {
    v.add_bos = template_bos || (v.model == VocabModel::SentencePiece) ||
                (v.model == VocabModel::BytePairEncoding && v.pre == PreTokenizer::Llama3);
  }
  v.add_eos = config.contains("add_eos_token") && config["add_eos_token"].is_boolean() &&
              config["add_eos_token"].get<bool>();
  if (v.add_bos && v.bos_id < 0)
    fail("BOS is to be added but tokenizer_config.json names no bos_token");

  if (config.contains("chat_template")) {
    const json& t = config["chat_template"];
    if (t.is_string()) {
      out.chat_template = t.get<std::string>();
    } else if (t.is_array()) {  // [{"name": ..., "template": ...}]: the default one
      for (const json& e : t) {
        if (e.is_object() && e.value("name", "") == "default" && e.contains("template")) {
          out.chat_template = e["template"].get<std::string>();
        }
      }
    }
  }
  return out;
}

}  // namespace llmops::engine
