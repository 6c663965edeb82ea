#include "gguf_convert.h"

#include <cstring>
#include <fstream>
#include <memory>
#include <vector>

#include "errors.h"
#include "gguf.h"
#include "mapped_file.h"
#include "quant.h"

namespace llmops::engine {

bool is_gguf_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {};
  return in.read(magic, sizeof magic) && std::memcmp(magic, "GGUF", 4) == 0;
}

void convert_gguf(const GgufConvertOptions& options) {
  if (options.out.empty()) throw std::invalid_argument("convert: no output path");
  const std::shared_ptr<const MappedFile> file = MappedFile::open(options.in);
  const GgufFile gguf = GgufFile::parse(file->data(), file->size(), options.in);

  int n_layers = 0;
  if (const auto arch = gguf.find_string("general.architecture")) {
    if (const auto blocks = gguf.find_u32(*arch + ".block_count"))
      n_layers = static_cast<int>(*blocks);
  }
  if (options.type.mix && n_layers <= 0) {
    gguf.fail("the " + file_type_name(options.type) +
              " mix needs general.architecture and <architecture>.block_count");
  }
  const TensorTypePlan plan(options.type, n_layers, gguf.find_tensor("output.weight") != nullptr);

  GgufWriter w;
  for (const std::string& key : gguf.keys()) {
    if (key == "general.file_type" || key == "general.quantization_version") continue;
    w.add(key, *gguf.find(key));
  }
  w.add_u32("general.file_type", llama_file_type(options.type));
  if (is_quantized(options.type.type)) w.add_u32("general.quantization_version", 2);

  for (const GgufTensorInfo& t : gguf.tensors()) {
    const TensorType to = plan.type_for(t.name, t.dims, t.type);
    const uint8_t* src = file->data() + t.file_offset;
    if (to == t.type) {
      w.add_tensor(t.name, t.dims, to,
                   [src, size = t.size_bytes] { return std::vector<uint8_t>(src, src + size); });
      continue;
    }
    const int64_t cols = t.dims[0];
    const int64_t rows = static_cast<int64_t>(t.n_elements) / cols;
    w.add_tensor(t.name, t.dims, to, [src, from = t.type, to, rows, cols] {
      const size_t in_row = row_bytes(from, cols);
      std::vector<float> values(static_cast<size_t>(rows * cols));
      for (int64_t r = 0; r < rows; ++r) {
        dequantize_row(from, src + in_row * static_cast<size_t>(r), values.data() + r * cols, cols);
      }
      std::vector<uint8_t> out(row_bytes(to, cols) * static_cast<size_t>(rows));
      quantize_rows(to, values.data(), out.data(), rows, cols);
      return out;
    });
  }
  w.write(options.out);
}

}  // namespace llmops::engine
