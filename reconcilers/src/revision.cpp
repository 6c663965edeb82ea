#include "llmops/reconcilers/revision.h"

#include <algorithm>
#include <cstdio>

namespace llmops::reconcilers {

std::string revision_hash(const nlohmann::json& model, const nlohmann::json& runtime) {
  // nlohmann::json objects are ordered maps: dump() is canonical.
  const std::string text = nlohmann::json{{"model", model}, {"runtime", runtime}}.dump();
  uint64_t hash = 1469598103934665603ULL;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 1099511628211ULL;
  }
  char out[17];
  std::snprintf(out, sizeof out, "%016llx", static_cast<unsigned long long>(hash));
  return out;
}

const RevisionRecord* find_revision_by_hash(const RolloutStatus& status, const std::string& hash) {
  for (const auto& record : status.revisions)
    if (record.hash == hash) return &record;
  return nullptr;
}

int64_t add_revision(RolloutStatus& status, const std::string& hash, const nlohmann::json& model,
                     const nlohmann::json& runtime, TimePoint now) {
  int64_t highest = 0;
  for (const auto& record : status.revisions) highest = std::max(highest, record.revision);
  for (const auto& known :
       {status.stable_revision, status.canary_revision, status.aborted_revision}) {
    if (known) highest = std::max(highest, *known);
  }
  RevisionRecord record;
  record.revision = highest + 1;
  record.hash = hash;
  record.model = model;
  record.runtime = runtime;
  record.created_at = now;
  status.revisions.push_back(std::move(record));
  return highest + 1;
}

void prune_revisions(RolloutStatus& status, int limit, std::initializer_list<int64_t> keep) {
  auto& revisions = status.revisions;
  if (revisions.empty()) return;
  std::sort(
      revisions.begin(), revisions.end(),
      [](const RevisionRecord& a, const RevisionRecord& b) { return a.revision < b.revision; });
  const auto kept = [&](const RevisionRecord& record) {
    return std::find(keep.begin(), keep.end(), record.revision) != keep.end() ||
           record.revision == revisions.back().revision;
  };
  std::size_t removable = 0;
  for (const auto& record : revisions)
    if (!kept(record)) ++removable;
  std::size_t in_use = revisions.size() - removable;
  std::size_t allowed = static_cast<std::size_t>(std::max(limit, 0));
  std::size_t excess =
      revisions.size() > allowed + in_use ? revisions.size() - allowed - in_use : 0;
  for (auto it = revisions.begin(); it != revisions.end() && excess > 0;) {
    if (!kept(*it)) {
      it = revisions.erase(it);
      --excess;
    } else {
      ++it;
    }
  }
}

}  // namespace llmops::reconcilers
