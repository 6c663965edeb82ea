#include "openai_protocol.h"

#include <chrono>
#include <cmath>
#include <limits>

namespace llmops::server {

using nlohmann::json;

ApiError::ApiError(int status, std::string message, std::string type, std::string param,
                   std::string code)
    : std::runtime_error(std::move(message)),
      status_(status),
      type_(std::move(type)),
      param_(std::move(param)),
      code_(std::move(code)) {}

json ApiError::body() const {
  json error = {{"message", what()}, {"type", type_}};
  error["param"] = param_.empty() ? json(nullptr) : json(param_);
  error["code"] = code_.empty() ? json(nullptr) : json(code_);
  return {{"error", error}};
}

namespace {

ApiError invalid(const std::string& param, const std::string& message) {
  return ApiError(400, message, "invalid_request_error", param);
}

double number_field(const json& body, const char* name, double fallback, double min, double max) {
  if (!body.contains(name) || body[name].is_null()) return fallback;
  const json& v = body[name];
  if (!v.is_number()) throw invalid(name, std::string("'") + name + "' must be a number");
  const double d = v.get<double>();
  if (!(d >= min && d <= max)) {
    throw invalid(name, std::string("'") + name + "' must be between " + std::to_string(min) +
                            " and " + std::to_string(max) + ", got " + v.dump());
  }
  return d;
}

int64_t integer_field(const json& body, const char* name, int64_t fallback, int64_t min,
                      int64_t max) {
  if (!body.contains(name) || body[name].is_null()) return fallback;
  const json& v = body[name];
  if (!v.is_number_integer()) throw invalid(name, std::string("'") + name + "' must be an integer");
  const int64_t i = v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(max)
                        ? max + 1
                        : v.get<int64_t>();
  if (i < min || i > max) {
    throw invalid(name, std::string("'") + name + "' must be between " + std::to_string(min) +
                            " and " + std::to_string(max) + ", got " + v.dump());
  }
  return i;
}

bool bool_field(const json& body, const char* name, bool fallback) {
  if (!body.contains(name) || body[name].is_null()) return fallback;
  if (!body[name].is_boolean())
    throw invalid(name, std::string("'") + name + "' must be a boolean");
  return body[name].get<bool>();
}

std::vector<std::string> stop_field(const json& body) {
  if (!body.contains("stop") || body["stop"].is_null()) return {};
  const json& v = body["stop"];
  if (v.is_string()) return {v.get<std::string>()};
  if (v.is_array() && v.size() <= 4) {
    std::vector<std::string> stops;
    for (const auto& s : v) {
      if (!s.is_string()) throw invalid("stop", "'stop' must hold strings");
      stops.push_back(s.get<std::string>());
    }
    return stops;
  }
  throw invalid("stop", "'stop' must be a string or an array of at most 4 strings");
}

// Message content: a string, or an array of {"type":"text","text":…} parts.
std::string message_content(const json& content, size_t index) {
  const std::string param = "messages[" + std::to_string(index) + "].content";
  if (content.is_string()) return content.get<std::string>();
  if (content.is_null()) return "";
  if (content.is_array()) {
    std::string text;
    for (const auto& part : content) {
      if (!part.is_object() || part.value("type", "") != "text" || !part.contains("text") ||
          !part["text"].is_string()) {
        throw invalid(param, "'" + param + "' parts must be {\"type\":\"text\",\"text\":…}");
      }
      text += part["text"].get<std::string>();
    }
    return text;
  }
  throw invalid(param, "'" + param + "' must be a string or an array of text parts");
}

}  // namespace

CompletionRequest parse_completion_request(std::string_view body_text, bool chat,
                                           uint64_t default_seed) {
  json body = json::parse(body_text, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) throw invalid("", "the request body is not valid JSON");
  if (!body.is_object()) throw invalid("", "the request body must be a JSON object");

  CompletionRequest r;
  r.chat = chat;
  if (body.contains("model") && !body["model"].is_null()) {
    if (!body["model"].is_string()) throw invalid("model", "'model' must be a string");
    r.model = body["model"].get<std::string>();
  }
  if (integer_field(body, "n", 1, 1, 1) != 1) throw invalid("n", "only n = 1 is supported");
  r.stream = bool_field(body, "stream", false);
  if (body.contains("stream_options") && body["stream_options"].is_object()) {
    r.include_usage = bool_field(body["stream_options"], "include_usage", false);
  }

  if (chat) {
    if (!body.contains("messages") || !body["messages"].is_array() || body["messages"].empty()) {
      throw invalid("messages", "'messages' must be a non-empty array");
    }
    for (size_t i = 0; i < body["messages"].size(); ++i) {
      const json& m = body["messages"][i];
      if (!m.is_object() || !m.contains("role") || !m["role"].is_string()) {
        throw invalid("messages[" + std::to_string(i) + "].role",
                      "messages[" + std::to_string(i) + "] needs a string 'role'");
      }
      r.messages.push_back({m["role"].get<std::string>(),
                            message_content(m.contains("content") ? m["content"] : json(), i)});
    }
  } else {
    if (!body.contains("prompt")) throw invalid("prompt", "'prompt' is required");
    const json& p = body["prompt"];
    if (p.is_string()) {
      r.prompt = p.get<std::string>();
    } else if (p.is_array() && p.size() == 1 && p[0].is_string()) {
      r.prompt = p[0].get<std::string>();
    } else if (p.is_array() && !p.empty() && p[0].is_number_integer()) {
      for (const auto& id : p) {
        if (!id.is_number_integer()) throw invalid("prompt", "'prompt' token ids must be integers");
        // Checked as 64-bit (or unsigned) before narrowing: 4294967297 must not become 1.
        const bool in_range =
            id.is_number_unsigned()
                ? id.get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<int32_t>::max())
                : id.get<int64_t>() >= 0 &&
                      id.get<int64_t>() <= std::numeric_limits<int32_t>::max();
        if (!in_range) {
          throw invalid("prompt", "'prompt' token id " + id.dump() + " is out of range");
        }
        r.prompt_ids.push_back(static_cast<int32_t>(id.get<int64_t>()));
      }
    } else {
      throw invalid("prompt", "'prompt' must be a string, one string in an array, or token ids");
    }
  }

  // OpenAI's defaults: 16 tokens for completions, up to the context for chat.
  const int64_t max_limit = std::numeric_limits<int32_t>::max();
  int64_t max_tokens = integer_field(body, "max_tokens", chat ? -1 : 16, 0, max_limit);
  if (chat) max_tokens = integer_field(body, "max_completion_tokens", max_tokens, 0, max_limit);
  r.options.max_tokens = static_cast<int>(max_tokens);
  r.options.stop = stop_field(body);
  r.options.sampling.temperature = static_cast<float>(number_field(body, "temperature", 1.0, 0, 2));
  r.options.sampling.top_p = static_cast<float>(number_field(body, "top_p", 1.0, 0, 1));
  if (r.options.sampling.top_p == 0.0f) r.options.sampling.temperature = 0.0f;  // only the top
  if (r.options.sampling.top_p == 0.0f) r.options.sampling.top_p = 1.0f;
  r.options.sampling.top_k = static_cast<int>(integer_field(body, "top_k", 0, 0, 1 << 20));
  const json seed = body.value("seed", json());
  if (!seed.is_null()) {
    if (!seed.is_number_integer()) throw invalid("seed", "'seed' must be an integer");
    r.options.sampling.seed = seed.get<uint64_t>();
  } else {
    r.options.sampling.seed = default_seed;
  }
  return r;
}

CompletionFormatter::CompletionFormatter(bool chat, std::string model, std::string id)
    : chat_(chat),
      model_(std::move(model)),
      id_(std::move(id)),
      created_(std::chrono::duration_cast<std::chrono::seconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count()) {}

json CompletionFormatter::base(bool streaming) const {
  const char* object =
      chat_ ? (streaming ? "chat.completion.chunk" : "chat.completion") : "text_completion";
  return {{"id", id_}, {"object", object}, {"created", created_}, {"model", model_}};
}

namespace {
json usage_json(const Usage& u) {
  return {{"prompt_tokens", u.prompt_tokens},
          {"completion_tokens", u.completion_tokens},
          {"total_tokens", u.prompt_tokens + u.completion_tokens}};
}
}  // namespace

json CompletionFormatter::complete(const std::string& text, std::string_view finish_reason,
                                   const Usage& usage) const {
  json r = base(false);
  json choice = {{"index", 0}, {"logprobs", nullptr}, {"finish_reason", finish_reason}};
  if (chat_) {
    choice["message"] = {{"role", "assistant"}, {"content", text}};
  } else {
    choice["text"] = text;
  }
  r["choices"] = json::array({choice});
  r["usage"] = usage_json(usage);
  return r;
}

json CompletionFormatter::first_chunk() const {
  json r = base(true);
  r["choices"] = json::array({{{"index", 0},
                               {"delta", {{"role", "assistant"}, {"content", ""}}},
                               {"logprobs", nullptr},
                               {"finish_reason", nullptr}}});
  return r;
}

json CompletionFormatter::chunk(const std::string& text) const {
  json r = base(true);
  json choice = {{"index", 0}, {"logprobs", nullptr}, {"finish_reason", nullptr}};
  if (chat_) {
    choice["delta"] = {{"content", text}};
  } else {
    choice["text"] = text;
  }
  r["choices"] = json::array({choice});
  return r;
}

json CompletionFormatter::final_chunk(std::string_view finish_reason) const {
  json r = base(true);
  json choice = {{"index", 0}, {"logprobs", nullptr}, {"finish_reason", finish_reason}};
  if (chat_) {
    choice["delta"] = json::object();
  } else {
    choice["text"] = "";
  }
  r["choices"] = json::array({choice});
  return r;
}

json CompletionFormatter::usage_chunk(const Usage& usage) const {
  json r = base(true);
  r["choices"] = json::array();
  r["usage"] = usage_json(usage);
  return r;
}

json models_list(const std::string& model, int64_t created) {
  return {
      {"object", "list"},
      {"data",
       json::array(
           {{{"id", model}, {"object", "model"}, {"created", created}, {"owned_by", "llmops"}}})}};
}

}  // namespace llmops::server
