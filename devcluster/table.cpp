#include "table.h"

#include "time_format.h"

namespace llmops::devcluster {

using Json = nlohmann::json;

namespace {

struct Column {
  std::string name;
  std::string type;  // string integer number boolean date
  std::string format;
  std::string description;
  int priority = 0;
  std::string jsonPath;  // for CRD columns
};

std::string stringValue(const Json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_null()) return "";
  return value.dump();
}

std::string ageOf(const Json& object, const std::string& path,
                  std::chrono::system_clock::time_point now) {
  auto matches = evaluateJsonPath(object, path);
  if (matches.empty() || !matches[0].is_string()) return "<unknown>";
  auto when = parseTimestamp(matches[0].get<std::string>());
  if (!when) return "<invalid>";
  return humanDuration(std::chrono::duration_cast<std::chrono::seconds>(now - *when));
}

std::vector<Column> builtinColumns(const ResourceType& type) {
  const Column name{"Name", "string", "name", "Name must be unique within a namespace.", 0, ""};
  const Column age{
      "Age",
      "string",
      "",
      "CreationTimestamp is a timestamp representing the server time when this object was created.",
      0,
      ".metadata.creationTimestamp"};
  if (type.group.empty() && type.kind == "Pod") {
    return {
        name,
        {"Ready", "string", "", "The aggregate readiness state of this pod for accepting traffic.",
         0, ""},
        {"Status", "string", "", "The aggregate status of the containers in this pod.", 0, ""},
        {"Restarts", "string", "",
         "The number of times the containers in this pod have been restarted.", 0, ""},
        age,
        {"IP", "string", "", "IP address allocated to the pod.", 1, ".status.podIP"},
        {"Node", "string", "", "Name of the node the pod is scheduled on.", 1, ".spec.nodeName"}};
  }
  if (type.group.empty() && type.kind == "Namespace") {
    return {name, {"Status", "string", "", "The status of the namespace", 0, ".status.phase"}, age};
  }
  if (type.group.empty() && type.kind == "Service") {
    return {name,
            {"Type", "string", "", "The type of the service.", 0, ".spec.type"},
            {"Cluster-IP", "string", "", "The IP address of the service.", 0, ".spec.clusterIP"},
            age};
  }
  if (type.group.empty() && (type.kind == "ConfigMap" || type.kind == "Secret")) {
    return {name, {"Data", "integer", "", "The number of entries in data.", 0, ""}, age};
  }
  if (type.kind == "Lease") {
    return {
        name, {"Holder", "string", "", "The holder of the lease.", 0, ".spec.holderIdentity"}, age};
  }
  if (type.kind == "CustomResourceDefinition") {
    return {name, {"Created At", "string", "date-time", "", 0, ".metadata.creationTimestamp"}};
  }
  return {name, age};
}

std::vector<Column> columnsFor(const ResourceType& type) {
  if (!type.custom || !type.printerColumns.is_array() || type.printerColumns.empty()) {
    if (type.custom) {
      return {{"Name", "string", "name", "Name must be unique within a namespace.", 0, ""},
              {"Age", "date", "",
               "CreationTimestamp is a timestamp representing the server time when this object was "
               "created.",
               0, ".metadata.creationTimestamp"}};
    }
    return builtinColumns(type);
  }
  std::vector<Column> columns = {
      {"Name", "string", "name", "Name must be unique within a namespace.", 0, ""}};
  for (const auto& column : type.printerColumns) {
    columns.push_back({column.value("name", ""), column.value("type", "string"),
                       column.value("format", ""), column.value("description", ""),
                       column.value("priority", 0), column.value("jsonPath", "")});
  }
  return columns;
}

Json podCell(const std::string& column, const Json& pod) {
  const Json status = pod.value("status", Json::object());
  if (column == "Ready") {
    size_t total = pod.contains("spec") ? pod["spec"].value("containers", Json::array()).size() : 0;
    size_t ready = 0;
    for (const auto& container : status.value("containerStatuses", Json::array())) {
      if (container.value("ready", false)) ++ready;
    }
    return std::to_string(ready) + "/" + std::to_string(total);
  }
  if (column == "Status") {
    if (pod["metadata"].contains("deletionTimestamp")) return "Terminating";
    // As kubectl prints it: a waiting or failed container's reason wins over the phase.
    std::string reason = status.value("reason", status.value("phase", "Pending"));
    for (const auto& container : status.value("containerStatuses", Json::array())) {
      const Json state = container.value("state", Json::object());
      if (state.contains("waiting") && !state["waiting"].value("reason", "").empty()) {
        reason = state["waiting"].value("reason", "");
      } else if (state.contains("terminated") && !state["terminated"].value("reason", "").empty()) {
        reason = state["terminated"].value("reason", "");
      }
    }
    return reason;
  }
  int restarts = 0;
  for (const auto& container : status.value("containerStatuses", Json::array())) {
    restarts += container.value("restartCount", 0);
  }
  return std::to_string(restarts);
}

Json cellFor(const ResourceType& type, const Column& column, const Json& object,
             const TableOptions& options) {
  if (column.name == "Name" && column.jsonPath.empty()) return object["metadata"].value("name", "");
  if (type.group.empty() && type.kind == "Pod" && column.jsonPath.empty()) {
    return podCell(column.name, object);
  }
  if (column.name == "Data" && column.jsonPath.empty()) {
    return object.contains("data") && object["data"].is_object() ? object["data"].size() : 0;
  }
  if (column.name == "Age" && !type.custom) {
    return ageOf(object, column.jsonPath, options.now);
  }
  auto matches = evaluateJsonPath(object, column.jsonPath);
  if (matches.empty()) return nullptr;
  if (column.type == "date") return ageOf(object, column.jsonPath, options.now);
  if (matches.size() == 1) {
    const auto& value = matches[0];
    if (column.type == "string" && !value.is_string()) return value.dump();
    return value;
  }
  std::string joined;
  for (const auto& match : matches) joined += (joined.empty() ? "" : " ") + stringValue(match);
  return joined;
}

}  // namespace

std::vector<Json> evaluateJsonPath(const Json& object, const std::string& rawPath) {
  std::string path = rawPath;
  if (path.size() >= 2 && path.front() == '{' && path.back() == '}') {
    path = path.substr(1, path.size() - 2);
  }
  std::vector<Json> current = {object};
  size_t i = 0;
  if (!path.empty() && path[0] == '$') i = 1;
  while (i < path.size()) {
    std::vector<Json> next;
    if (path[i] == '.') {
      size_t end = path.find_first_of(".[", i + 1);
      if (end == std::string::npos) end = path.size();
      std::string field = path.substr(i + 1, end - i - 1);
      for (const auto& value : current) {
        if (value.is_object() && value.contains(field)) next.push_back(value[field]);
      }
      i = end;
    } else if (path[i] == '[') {
      size_t end = path.find(']', i);
      if (end == std::string::npos) return {};
      std::string inside = path.substr(i + 1, end - i - 1);
      if (inside.rfind("?(", 0) == 0) {
        // [?(@.a.b=="v")]: the closing bracket may sit inside quotes; find the real one.
        end = path.find(")]", i);
        if (end == std::string::npos) return {};
        inside = path.substr(i + 3, end - i - 3);
        ++end;
        size_t eq = inside.find("==");
        if (eq == std::string::npos || inside.rfind("@", 0) != 0) return {};
        std::string subPath = inside.substr(1, eq - 1);
        std::string expected = inside.substr(eq + 2);
        if (expected.size() >= 2 && (expected[0] == '"' || expected[0] == '\'')) {
          expected = expected.substr(1, expected.size() - 2);
        }
        for (const auto& value : current) {
          if (!value.is_array()) continue;
          for (const auto& element : value) {
            auto found = evaluateJsonPath(element, subPath);
            if (!found.empty() && stringValue(found[0]) == expected) next.push_back(element);
          }
        }
      } else if (inside == "*") {
        for (const auto& value : current) {
          if (value.is_array()) next.insert(next.end(), value.begin(), value.end());
          if (value.is_object()) {
            for (const auto& [key, child] : value.items()) next.push_back(child);
          }
        }
      } else {
        bool numeric =
            !inside.empty() && inside.find_first_not_of("-0123456789") == std::string::npos;
        for (const auto& value : current) {
          if (numeric && value.is_array()) {
            long index = std::stol(inside);
            if (index < 0) index += static_cast<long>(value.size());
            if (index >= 0 && static_cast<size_t>(index) < value.size())
              next.push_back(value[index]);
          } else if (!numeric && value.is_object()) {
            std::string key = inside;
            if (key.size() >= 2 && (key[0] == '\'' || key[0] == '"'))
              key = key.substr(1, key.size() - 2);
            if (value.contains(key)) next.push_back(value[key]);
          }
        }
      }
      i = end + 1;
    } else {
      return {};
    }
    current = std::move(next);
    if (current.empty()) return {};
  }
  return current;
}

std::string humanDuration(std::chrono::seconds age) {
  long long seconds = age.count();
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 120) return std::to_string(seconds) + "s";
  long long minutes = seconds / 60;
  if (minutes < 10) {
    long long rest = seconds % 60;
    return std::to_string(minutes) + "m" + (rest ? std::to_string(rest) + "s" : "");
  }
  if (minutes < 180) return std::to_string(minutes) + "m";
  long long hours = minutes / 60;
  if (hours < 8) {
    long long rest = minutes % 60;
    return std::to_string(hours) + "h" + (rest ? std::to_string(rest) + "m" : "");
  }
  if (hours < 48) return std::to_string(hours) + "h";
  long long days = hours / 24;
  if (hours < 24 * 8) {
    long long rest = hours % 24;
    return std::to_string(days) + "d" + (rest ? std::to_string(rest) + "h" : "");
  }
  if (days < 365 * 2) return std::to_string(days) + "d";
  long long years = days / 365;
  if (years < 8) {
    long long rest = days % 365;
    return std::to_string(years) + "y" + (rest ? std::to_string(rest) + "d" : "");
  }
  return std::to_string(years) + "y";
}

Json makeTable(const ResourceType& type, const std::vector<Json>& objects, const Json& listMetadata,
               const TableOptions& options) {
  auto columns = columnsFor(type);
  Json definitions = Json::array();
  for (const auto& column : columns) {
    definitions.push_back({{"name", column.name},
                           {"type", column.type == "date" ? "string" : column.type},
                           {"format", column.format},
                           {"description", column.description},
                           {"priority", column.priority}});
  }
  Json rows = Json::array();
  for (const auto& object : objects) {
    Json cells = Json::array();
    for (const auto& column : columns) cells.push_back(cellFor(type, column, object, options));
    Json rowObject;
    if (options.includeFullObject) {
      rowObject = object;
    } else {
      rowObject = {{"kind", "PartialObjectMetadata"},
                   {"apiVersion", "meta.k8s.io/v1"},
                   {"metadata", object["metadata"]}};
    }
    rows.push_back({{"cells", cells}, {"object", rowObject}});
  }
  return {{"kind", "Table"},
          {"apiVersion", "meta.k8s.io/v1"},
          {"metadata", listMetadata.is_null() ? Json::object() : listMetadata},
          {"columnDefinitions", definitions},
          {"rows", rows}};
}

}  // namespace llmops::devcluster
