#include "request_info.h"

#include <gtest/gtest.h>

#include "status.h"

namespace llmops::devcluster {
namespace {

struct RequestInfoCase {
  std::string method;
  std::string target;
  std::string verb, group, version, ns, resource, subresource, name;
  bool resourceRequest;
};

TEST(RequestInfo, MatchesKubernetesRequestInfo) {
  const std::vector<RequestInfoCase> cases = {
      {"GET", "/api/v1/namespaces", "list", "", "v1", "", "namespaces", "", "", true},
      {"GET", "/api/v1/namespaces/default", "get", "", "v1", "default", "namespaces", "", "default",
       true},
      {"PUT", "/api/v1/namespaces/team/finalize", "update", "", "v1", "team", "namespaces",
       "finalize", "team", true},
      {"GET", "/api/v1/namespaces/default/pods", "list", "", "v1", "default", "pods", "", "", true},
      {"GET", "/api/v1/namespaces/default/pods?watch=true", "watch", "", "v1", "default", "pods",
       "", "", true},
      {"GET", "/api/v1/namespaces/default/pods?watch=1", "watch", "", "v1", "default", "pods", "",
       "", true},
      {"GET", "/api/v1/namespaces/default/pods?watch=false", "list", "", "v1", "default", "pods",
       "", "", true},
      {"GET", "/api/v1/watch/namespaces/default/pods", "watch", "", "v1", "default", "pods", "", "",
       true},
      {"POST", "/api/v1/namespaces/default/pods/p/binding", "create", "", "v1", "default", "pods",
       "binding", "p", true},
      {"GET", "/api/v1/pods", "list", "", "v1", "", "pods", "", "", true},
      {"DELETE", "/apis/tests.llmops.dev/v1alpha1/namespaces/default/llmdeployments",
       "deletecollection", "tests.llmops.dev", "v1alpha1", "default", "llmdeployments", "", "",
       true},
      {"PATCH", "/apis/tests.llmops.dev/v1alpha1/namespaces/default/llmdeployments/x/scale",
       "patch", "tests.llmops.dev", "v1alpha1", "default", "llmdeployments", "scale", "x", true},
      {"DELETE", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/a.b", "delete",
       "apiextensions.k8s.io", "v1", "", "customresourcedefinitions", "", "a.b", true},
      {"GET", "/apis", "get", "", "", "", "", "", "", false},
      {"GET", "/apis/tests.llmops.dev", "get", "", "", "", "", "", "", false},
      {"GET", "/apis/tests.llmops.dev/v1alpha1", "get", "tests.llmops.dev", "v1alpha1", "", "", "",
       "", false},
      {"GET", "/version?timeout=5s", "get", "", "", "", "", "", "", false},
      {"GET", "/api/v1/namespaces/a/pods/b/c/d", "get", "", "v1", "a", "pods", "c", "b", false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.method + " " + c.target);
    auto info = parseRequestInfo(c.method, c.target);
    EXPECT_EQ(info.isResourceRequest, c.resourceRequest);
    EXPECT_EQ(info.verb, c.verb);
    EXPECT_EQ(info.group, c.group);
    EXPECT_EQ(info.version, c.version);
    EXPECT_EQ(info.namespaceName, c.ns);
    EXPECT_EQ(info.resource, c.resource);
    EXPECT_EQ(info.subresource, c.subresource);
    EXPECT_EQ(info.name, c.name);
  }
}

TEST(RequestInfo, DecodesQueries) {
  auto query = parseQuery("fieldSelector=metadata.name%3Dx&limit=500&empty&a=1&a=2&sp=a+b");
  EXPECT_EQ(query["fieldSelector"], "metadata.name=x");
  EXPECT_EQ(query["limit"], "500");
  EXPECT_EQ(query["empty"], "");
  EXPECT_EQ(query["a"], "2");
  EXPECT_EQ(query["sp"], "a b");
  EXPECT_EQ(percentDecode("%zz%4"), "%zz%4");
  EXPECT_EQ(percentDecode("100%"), "100%");
}

TEST(RequestInfo, ParsesBooleansAsGoDoes) {
  for (const char* yes : {"1", "t", "T", "TRUE", "true", "True"})
    EXPECT_EQ(parseGoBool(yes), true) << yes;
  for (const char* no : {"0", "f", "F", "FALSE", "false", "False"})
    EXPECT_EQ(parseGoBool(no), false) << no;
  for (const char* bad : {"", "yes", "tRUE", "2"})
    EXPECT_FALSE(parseGoBool(bad).has_value()) << bad;
  EXPECT_THROW(queryFlag({{"force", "maybe"}}, "force"), ApiError);
  EXPECT_FALSE(queryFlag({}, "force"));
}

}  // namespace
}  // namespace llmops::devcluster
