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

// A valid LLMDeployment name may be 253 characters long; what the operator makes from it
// must still be accepted by a real API server: pod names of at most 63 (the hostname),
// label values of at most 63, Service names that are DNS-1035 labels. Long names are cut
// with a hash suffix, as Kubernetes' own controllers do, so that two long names sharing a
// prefix stay apart, and the label, the Service selector and status.selector agree.
TEST(PodTemplate, GeneratedNamesFitWhatTheApiServerAccepts) {
  const std::string long_name = std::string(240, 'a') + "-0123456789";
  const std::string sibling = std::string(240, 'a') + "-9876543210";
  json owner = kOwner;
  owner["metadata"]["name"] = long_name;
  RevisionRecord r = record();
  r.revision = 123456;
  const json pod = pod_manifest(owner, r, "canary", 15);
  const std::string name = pod["metadata"]["name"];
  EXPECT_LE(name.size(), 63u) << name;
  EXPECT_NE(name.find("-r123456-15"), std::string::npos) << name;
  const std::string label = pod["metadata"]["labels"]["llmops.dev/deployment"];
  EXPECT_LE(label.size(), 63u) << label;
  EXPECT_EQ(label, deployment_label_value(long_name));
  EXPECT_NE(label, deployment_label_value(sibling));
  EXPECT_NE(name, pod_name(sibling, 123456, 15));
  EXPECT_EQ(pod["metadata"]["ownerReferences"][0]["name"], long_name);  // the owner as is

  const json service = service_manifest(owner);
  const std::string service_name = service["metadata"]["name"];
  EXPECT_LE(service_name.size(), 63u);
  EXPECT_EQ(service["spec"]["selector"]["llmops.dev/deployment"], label);
  EXPECT_EQ(service["metadata"]["labels"]["llmops.dev/deployment"], label);

  // Short names are kept exactly (existing pods and Services keep their names).
  EXPECT_EQ(pod_name("story", 3, 0), "story-r3-0");
  EXPECT_EQ(deployment_label_value("story"), "story");
  // A name at the limit is kept; one over it is cut and ends in an alphanumeric character.
  EXPECT_EQ(deployment_label_value(std::string(63, 'b')), std::string(63, 'b'));
  const std::string cut = deployment_label_value(std::string(50, 'b') + "-" + std::string(20, 'c'));
  EXPECT_EQ(cut.size(), 63u);
  EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(cut.back())));
}

// A Service name is a DNS-1035 label: an LLMDeployment named "1abc" or "a.b" (valid
// names for it) cannot have one, which the operator reports instead of failing forever.
TEST(PodTemplate, ServiceNameThatCannotBeMadeIsReported) {
  EXPECT_EQ(service_name_for("story"), "story");
  EXPECT_LE(service_name_for(std::string(200, 's')).size(), 63u);
  EXPECT_THROW(service_name_for("1abc"), std::invalid_argument);
  EXPECT_THROW(service_name_for("a.b"), std::invalid_argument);
}

}  // namespace
}  // namespace llmops::reconcilers
