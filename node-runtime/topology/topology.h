// The machine's topology loaded with hwloc: owns the hwloc_topology_t (needed later to
// pin threads and allocate bound memory) and a plain TopologyInfo snapshot of it.
// Loadable from this system, a synthetic description or XML (tests).
#pragma once

#include <hwloc.h>

#include <memory>
#include <string>
#include <vector>

#include "topology_info.h"

namespace llmops::topology {

class Topology {
 public:
  // This machine as this process sees it: the cgroup cpuset/memory nodes (hwloc leaves
  // disallowed PUs out) and the affinity mask (taskset) narrow `allowed_pus`.
  static std::shared_ptr<Topology> this_system();
  // e.g. "pack:2 [numa] core:8 pu:2"; binding through it is a no-op.
  static std::shared_ptr<Topology> synthetic(const std::string& description);
  static std::shared_ptr<Topology> from_xml(const std::string& xml);

  ~Topology();
  Topology(const Topology&) = delete;
  Topology& operator=(const Topology&) = delete;

  hwloc_topology_t handle() const { return topology_; }
  const TopologyInfo& info() const { return info_; }
  bool is_this_system() const { return hwloc_topology_is_thissystem(topology_) != 0; }
  std::string export_xml() const;

 private:
  Topology();
  void load(const std::string& source);

  hwloc_topology_t topology_ = nullptr;
  TopologyInfo info_;
};

// RAII over an hwloc bitmap (cpuset or nodeset) built from OS indexes.
struct BitmapDeleter {
  void operator()(hwloc_bitmap_s* bitmap) const { hwloc_bitmap_free(bitmap); }
};
using Bitmap = std::unique_ptr<hwloc_bitmap_s, BitmapDeleter>;
Bitmap make_bitmap(const std::vector<int>& indexes);
std::vector<int> bitmap_indexes(hwloc_const_bitmap_t bitmap);

}  // namespace llmops::topology
