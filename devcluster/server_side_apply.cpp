#include "server_side_apply.h"

#include <map>
#include <set>
#include <vector>

#include "object_lifecycle.h"
#include "status.h"

namespace llmops::devcluster {

using Json = nlohmann::json;

namespace {

using FieldPath = std::vector<std::string>;
using FieldSet = std::set<FieldPath>;

struct ManagerEntry {
  std::string manager;
  std::string operation;  // Apply or Update
  std::string apiVersion;
  std::string time;
  std::string subresource;
  FieldSet fields;
};

// Leaves of an object that a manager can own: scalars, lists (atomic) and empty maps.
// System metadata and status are nobody's.
void collectLeaves(const Json& value, FieldPath& prefix, FieldSet& out) {
  if (value.is_object() && !value.empty()) {
    for (const auto& [key, child] : value.items()) {
      if (prefix.empty() && (key == "apiVersion" || key == "kind" || key == "status")) continue;
      if (prefix.size() == 1 && prefix[0] == "metadata" && key != "labels" &&
          key != "annotations" && key != "finalizers" && key != "ownerReferences") {
        continue;
      }
      prefix.push_back(key);
      collectLeaves(child, prefix, out);
      prefix.pop_back();
    }
    return;
  }
  if (!prefix.empty()) out.insert(prefix);
}

FieldSet leavesOf(const Json& object) {
  FieldSet out;
  FieldPath prefix;
  if (object.is_object()) collectLeaves(object, prefix, out);
  return out;
}

const Json* valueAt(const Json& object, const FieldPath& path) {
  const Json* current = &object;
  for (const auto& key : path) {
    if (!current->is_object() || !current->contains(key)) return nullptr;
    current = &(*current)[key];
  }
  return current;
}

void eraseAt(Json& object, const FieldPath& path) {
  Json* current = &object;
  for (size_t i = 0; i + 1 < path.size(); ++i) {
    if (!current->is_object() || !current->contains(path[i])) return;
    current = &(*current)[path[i]];
  }
  if (current->is_object()) current->erase(path.back());
}

std::string dotted(const FieldPath& path) {
  std::string text;
  for (const auto& key : path) text += "." + key;
  return text;
}

Json toFieldsV1(const FieldSet& fields) {
  Json root = Json::object();
  for (const auto& path : fields) {
    Json* node = &root;
    for (const auto& key : path) node = &(*node)["f:" + key];
    if (node->is_null()) *node = Json::object();
  }
  return root;
}

void fromFieldsV1(const Json& node, FieldPath& prefix, FieldSet& out) {
  bool hasChildren = false;
  if (node.is_object()) {
    for (const auto& [key, child] : node.items()) {
      if (key.rfind("f:", 0) != 0) continue;
      hasChildren = true;
      prefix.push_back(key.substr(2));
      fromFieldsV1(child, prefix, out);
      prefix.pop_back();
    }
  }
  if (!hasChildren && !prefix.empty()) out.insert(prefix);
}

std::vector<ManagerEntry> readEntries(const Json& object) {
  std::vector<ManagerEntry> entries;
  if (!object.is_object() || !object.contains("metadata")) return entries;
  for (const auto& raw : object["metadata"].value("managedFields", Json::array())) {
    ManagerEntry entry{raw.value("manager", ""),     raw.value("operation", "Update"),
                       raw.value("apiVersion", ""),  raw.value("time", ""),
                       raw.value("subresource", ""), {}};
    FieldPath prefix;
    fromFieldsV1(raw.value("fieldsV1", Json::object()), prefix, entry.fields);
    entries.push_back(std::move(entry));
  }
  return entries;
}

void writeEntries(Json& object, const std::vector<ManagerEntry>& entries) {
  Json list = Json::array();
  for (const auto& entry : entries) {
    if (entry.fields.empty()) continue;
    Json raw = {{"manager", entry.manager},       {"operation", entry.operation},
                {"apiVersion", entry.apiVersion}, {"time", entry.time},
                {"fieldsType", "FieldsV1"},       {"fieldsV1", toFieldsV1(entry.fields)}};
    if (!entry.subresource.empty()) raw["subresource"] = entry.subresource;
    list.push_back(raw);
  }
  if (list.empty()) {
    object["metadata"].erase("managedFields");
  } else {
    object["metadata"]["managedFields"] = list;
  }
}

ManagerEntry& entryFor(std::vector<ManagerEntry>& entries, const std::string& manager,
                       const std::string& operation, const std::string& apiVersion) {
  for (auto& entry : entries) {
    if (entry.manager == manager && entry.operation == operation) {
      entry.apiVersion = apiVersion;
      entry.time = nowTimestamp();
      return entry;
    }
  }
  entries.push_back({manager, operation, apiVersion, nowTimestamp(), "", {}});
  return entries.back();
}

// Whether `current` holds everything `applied` says, allowing for fields the server
// added (defaults). Lists are owned whole here, unlike the real server's keyed lists, so
// this keeps a re-applied list that only lacks defaults from counting as a change.
bool subsumes(const Json& current, const Json& applied) {
  if (applied.is_object()) {
    if (!current.is_object()) return false;
    for (const auto& [key, value] : applied.items()) {
      if (!current.contains(key) || !subsumes(current[key], value)) return false;
    }
    return true;
  }
  if (applied.is_array()) {
    if (!current.is_array() || current.size() != applied.size()) return false;
    for (size_t i = 0; i < applied.size(); ++i) {
      if (!subsumes(current[i], applied[i])) return false;
    }
    return true;
  }
  return current == applied;
}

void deepMerge(Json& target, const Json& source) {
  for (const auto& [key, value] : source.items()) {
    if (value.is_array() && target.contains(key) && subsumes(target[key], value)) continue;
    if (value.is_object() && target.contains(key) && target[key].is_object()) {
      deepMerge(target[key], value);
    } else if (value.is_null()) {
      target.erase(key);
    } else {
      target[key] = value;
    }
  }
}

}  // namespace

void recordUpdate(Json& object, const Json& old, const std::string& manager,
                  const std::string& apiVersion) {
  // A client that rewrites managedFields itself (kubectl does when it upgrades
  // client-side-apply ownership) is taken at its word; [] clears them.
  const Json* base = &object;
  if (!old.is_null()) {
    Json before = old["metadata"].value("managedFields", Json());
    Json after = object["metadata"].value("managedFields", Json());
    if (after == before || after.is_null()) base = &old;
  }
  auto entries = readEntries(*base);
  FieldSet changed;
  for (const auto& path : leavesOf(object)) {
    const Json* before = old.is_null() ? nullptr : valueAt(old, path);
    const Json* after = valueAt(object, path);
    if (!before || !after || *before != *after) changed.insert(path);
  }
  if (changed.empty()) {
    writeEntries(object, entries);
    return;
  }
  for (auto& entry : entries) {
    if (entry.manager == manager && entry.operation == "Update") continue;
    for (const auto& path : changed) entry.fields.erase(path);
  }
  auto& mine = entryFor(entries, manager, "Update", apiVersion);
  mine.fields.insert(changed.begin(), changed.end());
  writeEntries(object, entries);
}

Json serverSideApply(const Json& current, const Json& configuration, const std::string& manager,
                     const std::string& apiVersion, bool force, const std::string& group,
                     const std::string& plural) {
  if (!configuration.is_object()) throw badRequest("apply configuration must be an object");
  const FieldSet applied = leavesOf(configuration);
  auto entries = readEntries(current);
  const Json base = current.is_null() ? Json::object() : current;

  Json causes = Json::array();
  std::string summary;
  for (auto& entry : entries) {
    if (entry.manager == manager && entry.operation == "Apply") continue;
    for (const auto& path : entry.fields) {
      if (!applied.count(path)) continue;
      const Json* mine = valueAt(configuration, path);
      const Json* theirs = valueAt(base, path);
      if (mine && theirs && subsumes(*theirs, *mine)) continue;  // agreeing managers share it
      std::string message = "conflict with \"" + entry.manager + "\"" +
                            (entry.operation == "Update" ? " using " + entry.apiVersion : "") +
                            ": " + dotted(path);
      causes.push_back(
          {{"reason", "FieldManagerConflict"}, {"message", message}, {"field", dotted(path)}});
      summary += (summary.empty() ? "" : "\n") + ("- " + message);
    }
  }
  if (!causes.empty()) {
    if (!force) {
      Json details = {{"name", configuration["metadata"].value("name", "")},
                      {"kind", plural},
                      {"causes", causes}};
      if (!group.empty()) details["group"] = group;
      throw ApiError(409, "Conflict",
                     "Apply failed with " + std::to_string(causes.size()) + " conflict" +
                         (causes.size() == 1 ? "" : "s") + ": " + summary,
                     details);
    }
    for (auto& entry : entries) {
      if (entry.manager == manager && entry.operation == "Apply") continue;
      for (const auto& path : applied) entry.fields.erase(path);
    }
  }

  Json result = base;
  // Fields this applier owned and no longer sends go, unless someone else owns them.
  for (const auto& entry : entries) {
    if (entry.manager != manager || entry.operation != "Apply") continue;
    for (const auto& path : entry.fields) {
      if (applied.count(path)) continue;
      bool ownedElsewhere = false;
      for (const auto& other : entries) {
        if (&other != &entry && other.fields.count(path)) ownedElsewhere = true;
      }
      if (!ownedElsewhere) eraseAt(result, path);
    }
  }
  Json config = configuration;
  Json metadata = config.value("metadata", Json::object());
  config.erase("metadata");
  deepMerge(result, config);
  for (const char* key : {"labels", "annotations"}) {
    if (metadata.contains(key) && metadata[key].is_object()) {
      deepMerge(result["metadata"][key], metadata[key]);
    }
  }
  for (const char* key : {"finalizers", "ownerReferences", "name", "namespace", "generateName"}) {
    if (metadata.contains(key)) result["metadata"][key] = metadata[key];
  }
  auto& mine = entryFor(entries, manager, "Apply", apiVersion);
  mine.fields = applied;
  writeEntries(result, entries);
  return result;
}

}  // namespace llmops::devcluster
