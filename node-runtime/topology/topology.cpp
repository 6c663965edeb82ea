#include "topology.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace llmops::topology {

namespace {

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error("hwloc: " + what + ": " + std::strerror(errno));
}

}  // namespace

Bitmap make_bitmap(const std::vector<int>& indexes) {
  Bitmap bitmap(hwloc_bitmap_alloc());
  if (!bitmap) throw std::bad_alloc();
  for (int index : indexes) hwloc_bitmap_set(bitmap.get(), static_cast<unsigned>(index));
  return bitmap;
}

std::vector<int> bitmap_indexes(hwloc_const_bitmap_t bitmap) {
  std::vector<int> out;
  for (int i = hwloc_bitmap_first(bitmap); i >= 0; i = hwloc_bitmap_next(bitmap, i)) {
    out.push_back(i);
  }
  return out;
}

Topology::Topology() {
  if (hwloc_topology_init(&topology_) != 0) fail("hwloc_topology_init");
}

Topology::~Topology() {
  hwloc_topology_destroy(topology_);
}

std::shared_ptr<Topology> Topology::this_system() {
  std::shared_ptr<Topology> t(new Topology());
  t->load("this-system");
  return t;
}

std::shared_ptr<Topology> Topology::synthetic(const std::string& description) {
  std::shared_ptr<Topology> t(new Topology());
  if (hwloc_topology_set_synthetic(t->topology_, description.c_str()) != 0) {
    throw std::invalid_argument("hwloc rejects the synthetic topology '" + description + "'");
  }
  t->load("synthetic:" + description);
  return t;
}

std::shared_ptr<Topology> Topology::from_xml(const std::string& xml) {
  std::shared_ptr<Topology> t(new Topology());
  if (hwloc_topology_set_xmlbuffer(t->topology_, xml.data(), static_cast<int>(xml.size()) + 1) !=
      0) {
    throw std::invalid_argument("hwloc rejects the XML topology");
  }
  try {
    t->load("xml");
  } catch (const std::runtime_error& e) {
    throw std::invalid_argument(std::string("hwloc rejects the XML topology: ") + e.what());
  }
  return t;
}

std::string Topology::export_xml() const {
  char* buffer = nullptr;
  int length = 0;
  if (hwloc_topology_export_xmlbuffer(topology_, &buffer, &length, 0) != 0) {
    fail("hwloc_topology_export_xmlbuffer");
  }
  std::string xml(buffer);
  hwloc_free_xmlbuffer(topology_, buffer);
  return xml;
}

void Topology::load(const std::string& source) {
  if (hwloc_topology_load(topology_) != 0) fail("loading the " + source + " topology");
  const hwloc_topology_t t = topology_;
  info_.source = source;
  info_.packages = hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_PACKAGE);

  std::vector<hwloc_obj_t> nodes;
  for (hwloc_obj_t node = nullptr;
       (node = hwloc_get_next_obj_by_type(t, HWLOC_OBJ_NUMANODE, node)) != nullptr;) {
    nodes.push_back(node);
    info_.numa_nodes.push_back({static_cast<int>(node->os_index),
                                node->attr ? node->attr->numanode.local_memory : 0,
                                bitmap_indexes(node->cpuset)});
  }
  // Machines without Core objects: each PU counts as its own core.
  const hwloc_obj_type_t core_type =
      hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_CORE) > 0 ? HWLOC_OBJ_CORE : HWLOC_OBJ_PU;
  for (hwloc_obj_t core = nullptr; (core = hwloc_get_next_obj_by_type(t, core_type, core));) {
    CoreInfo info;
    info.logical_index = static_cast<int>(core->logical_index);
    if (hwloc_obj_t package = hwloc_get_ancestor_obj_by_type(t, HWLOC_OBJ_PACKAGE, core)) {
      info.package = static_cast<int>(package->logical_index);
    }
    // Several nodes may cover a core (DRAM plus HBM or CXL): take the first, the DRAM.
    for (hwloc_obj_t node : nodes) {
      if (hwloc_bitmap_isincluded(core->cpuset, node->cpuset)) {
        info.numa_node = static_cast<int>(node->os_index);
        break;
      }
    }
    info.pus = bitmap_indexes(core->cpuset);
    if (!info.pus.empty()) info_.cores.push_back(std::move(info));
  }

  Bitmap allowed(hwloc_bitmap_dup(hwloc_topology_get_allowed_cpuset(t)));
  if (is_this_system()) {
    Bitmap bound(hwloc_bitmap_alloc());
    if (hwloc_get_cpubind(t, bound.get(), HWLOC_CPUBIND_PROCESS) == 0 &&
        hwloc_bitmap_intersects(bound.get(), allowed.get())) {
      hwloc_bitmap_and(allowed.get(), allowed.get(), bound.get());
    }
  }
  info_.allowed_pus = bitmap_indexes(allowed.get());
  info_.allowed_numa_nodes = bitmap_indexes(hwloc_topology_get_allowed_nodeset(t));
}

}  // namespace llmops::topology
