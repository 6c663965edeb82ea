#include "llmops/reconcilers/pod_template.h"

#include <gtest/gtest.h>

namespace llmops::reconcilers {
namespace {

using nlohmann::json;

const json kOwner = {{"apiVersion", "llmops.dev/v1alpha1"},
                     {"kind", "LLMDeployment"},
                     {"metadata", {{"name", "story"}, {"namespace", "ml"}, {"uid", "u-1"}}}};

RevisionRecord record() {
  RevisionRecord r;
  r.revision = 3;
  r.hash = "abc";
  r.model = {{"name", "storyteller"},
             {"uri", "file:///m.gguf"},
             {"sha256", std::string(64, 'a')},
             {"tokenizerUri", "file:///t.bin"}};
  r.runtime = {{"image", "reg/llmops-runtime:1"},
               {"threads", 2},
               {"numa", "none"},
               {"maxBatch", 8},
               {"contextLength", 256},
               {"args", {"--inject-error-rate", "1"}},
               {"env", json::array({{{"name", "A"}, {"value", "b"}}})},
               {"resources", {{"requests", {{"cpu", "100m"}}}}}};
  return r;
}

TEST(PodTemplate, PodFollowsTheContract) {
  const json pod = pod_manifest(kOwner, record(), "canary", 2);
  EXPECT_EQ(pod["metadata"]["name"], "story-r3-2");
  EXPECT_EQ(pod["metadata"]["namespace"], "ml");
  EXPECT_EQ(pod["metadata"]["labels"], (json{{"llmops.dev/deployment", "story"},
                                             {"llmops.dev/revision", "3"},
                                             {"llmops.dev/track", "canary"}}));
  const json& owner = pod["metadata"]["ownerReferences"][0];
  EXPECT_EQ(owner["uid"], "u-1");
  EXPECT_EQ(owner["controller"], true);
  const json& container = pod["spec"]["containers"][0];
  EXPECT_EQ(container["name"], "runtime");
  EXPECT_EQ(container["image"], "reg/llmops-runtime:1");
  EXPECT_EQ(container["args"], (json{"serve",
                                     "--model",
                                     "file:///m.gguf",
                                     "--model-name",
                                     "storyteller",
                                     "--host",
                                     "$(POD_IP)",
                                     "--port",
                                     "8080",
                                     "--max-batch",
                                     "8",
                                     "--threads",
                                     "2",
                                     "--numa",
                                     "none",
                                     "--context",
                                     "256",
                                     "--model-sha256",
                                     std::string(64, 'a'),
                                     "--tokenizer",
                                     "file:///t.bin",
                                     "--inject-error-rate",
                                     "1"}));
  EXPECT_EQ(container["env"][0]["valueFrom"]["fieldRef"]["fieldPath"], "status.podIP");
  EXPECT_EQ(container["env"][1]["name"], "A");
  EXPECT_EQ(container["ports"][0]["name"], "http");
  EXPECT_EQ(container["ports"][0]["containerPort"], 8080);
  EXPECT_EQ(container["readinessProbe"]["httpGet"]["path"], "/readyz");
  EXPECT_EQ(container["readinessProbe"]["httpGet"]["port"], "http");
  EXPECT_EQ(container["resources"]["requests"]["cpu"], "100m");
  EXPECT_GE(pod["spec"]["terminationGracePeriodSeconds"], 35) << "longer than the drain";
}

TEST(PodTemplate, MinimalRevisionUsesDefaults) {
  RevisionRecord r;
  r.revision = 1;
  r.model = {{"name", "m"}, {"uri", "file:///m.gguf"}};
  r.runtime = {{"image", "llmops-runtime"}};
  EXPECT_EQ(runtime_args(r),
            (json{"serve", "--model", "file:///m.gguf", "--model-name", "m", "--host", "$(POD_IP)",
                  "--port", "8080", "--max-batch", "16", "--threads", "0", "--numa", "bind"}));
}

TEST(PodTemplate, ServiceSelectsEveryPod) {
  const json service = service_manifest(kOwner);
  EXPECT_EQ(service["metadata"]["name"], "story");
  EXPECT_EQ(service["spec"]["selector"], (json{{"llmops.dev/deployment", "story"}}));
  EXPECT_EQ(service["spec"]["ports"][0]["name"], "http");
  EXPECT_EQ(service["spec"]["ports"][0]["targetPort"], "http");
}

}  // namespace
}  // namespace llmops::reconcilers
