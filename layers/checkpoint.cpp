#include "layers/checkpoint.h"

#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <algorithm>
#include <map>
#include <set>
#include <vector>

#include "autograd/grad_mode.h"
#include "core/atomic_file.h"
#include "core/factory.h"
#include "core/ops.h"
#include "layers/json.h"

namespace facet::nn {

static_assert(std::endian::native == std::endian::little, "safetensors stores little-endian data");

namespace {

constexpr uint64_t kMaxHeaderBytes = uint64_t{100} << 20;  // the safetensors reference limit

const char* dtype_code(DType dtype) {
  switch (dtype) {
    case DType::Float32: return "F32";
    case DType::Float64: return "F64";
    case DType::Int64: return "I64";
  }
  return "?";
}

bool dtype_from_code(const std::string& code, DType& dtype) {
  if (code == "F32") dtype = kFloat32;
  else if (code == "F64") dtype = kFloat64;
  else if (code == "I64") dtype = kInt64;
  else return false;
  return true;
}

std::string shape_and_dtype(const Shape& shape, DType dtype) { return shape_str(shape) + " " + dtype_name(dtype); }

[[noreturn]] void io_error(const char* op, const std::string& what, const std::string& path) {
  throw Error(op, what + " " + path, std::strerror(errno));
}


}  // namespace

void save_tensors(const NamedTensors& tensors, const std::string& path) {
  std::set<std::string> names;
  std::vector<Tensor> host;  // contiguous CPU copies, in file order
  std::string header = "{\"__metadata__\":{\"format\":\"pt\"}";
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    FACET_CHECK(!name.empty() && name != "__metadata__" && names.insert(name).second, "save",
                "distinct, non-empty tensor names other than __metadata__",
                "\"" + name + "\" " + (name.empty() || name == "__metadata__" ? "(reserved)" : "twice"));
    FACET_CHECK(t.defined(), "save", "a defined tensor for \"" + name + "\"", "an undefined tensor");
    host.push_back(ops::contiguous(ops::to_device(t.detach(), Device::cpu())));
    const uint64_t bytes = static_cast<uint64_t>(t.numel()) * dtype_size(t.dtype());
    // Appended piece by piece: GCC 12 at -O3 warns (-Wrestrict, falsely) on "literal" + string.
    header.append(",").append(json::quote(name)).append(":{\"dtype\":\"").append(dtype_code(t.dtype()));
    header.append("\",\"shape\":[");
    for (int64_t d = 0; d < t.dim(); ++d) header.append(d ? "," : "").append(std::to_string(t.size(d)));
    header += "],\"data_offsets\":[" + std::to_string(offset) + "," + std::to_string(offset + bytes) + "]}";
    offset += bytes;
  }
  header += "}";
  header.append((8 - header.size() % 8) % 8, ' ');  // data starts 8-byte aligned

  const uint64_t header_bytes = header.size();
  write_file_atomically(path, "save", [&](std::FILE* f) {
    bool ok = std::fwrite(&header_bytes, 8, 1, f) == 1 && std::fwrite(header.data(), 1, header.size(), f) == header.size();
    for (const Tensor& t : host) {
      const size_t bytes = static_cast<size_t>(t.numel()) * dtype_size(t.dtype());
      ok = ok && (bytes == 0 || std::fwrite(t.raw_data(), 1, bytes, f) == bytes);
    }
    return ok;
  });
}

NamedTensors load_tensors(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) io_error("load", "a readable file at", path);
  in.seekg(0, std::ios::end);
  const uint64_t file_bytes = static_cast<uint64_t>(in.tellg());
  in.seekg(0);
  FACET_CHECK(file_bytes >= 8, "load", "a safetensors file of at least 8 bytes (the header length): " + path,
              std::to_string(file_bytes) + " bytes (truncated?)");
  uint64_t header_bytes = 0;
  in.read(reinterpret_cast<char*>(&header_bytes), 8);
  FACET_CHECK(header_bytes <= kMaxHeaderBytes && header_bytes <= file_bytes - 8, "load",
              "a header length within the file (" + std::to_string(file_bytes - 8) + " bytes after it) in " + path,
              std::to_string(header_bytes) + " (truncated or not a safetensors file?)");
  std::string header(header_bytes, '\0');
  in.read(header.data(), static_cast<std::streamsize>(header_bytes));
  const uint64_t data_bytes = file_bytes - 8 - header_bytes;
  const json::Value root = json::parse(header, "the header of " + path);
  FACET_CHECK(root.kind == json::Value::Kind::Object, "load", "a JSON object as the header of " + path, "another value");

  struct Entry {
    std::string name;
    DType dtype;
    Shape shape;
    uint64_t begin, end;
  };
  std::vector<Entry> entries;
  std::set<std::string> seen;
  for (const auto& [name, v] : root.members) {
    if (name == "__metadata__") continue;
    const std::string where = "\"" + name + "\" in " + path;
    FACET_CHECK(seen.insert(name).second, "load", "each tensor name once in " + path, "\"" + name + "\" twice");
    const json::Value* dt = v.find("dtype");
    const json::Value* sh = v.find("shape");
    const json::Value* off = v.find("data_offsets");
    FACET_CHECK(v.kind == json::Value::Kind::Object && dt && sh && off && dt->kind == json::Value::Kind::String &&
                    sh->kind == json::Value::Kind::Array && off->kind == json::Value::Kind::Array && off->items.size() == 2,
                "load", "dtype, shape and data_offsets [begin, end] for " + where, "an entry without them");
    Entry e{name, kFloat32, {}, 0, 0};
    FACET_CHECK(dtype_from_code(dt->text, e.dtype), "load", "dtype F32, F64 or I64 for " + where, "\"" + dt->text + "\"");
    for (const json::Value& s : sh->items) {
      FACET_CHECK(s.kind == json::Value::Kind::Integer && s.integer >= 0, "load",
                  "non-negative integer sizes for " + where, s.text.empty() ? "another value" : s.text);
      e.shape.push_back(s.integer);
    }
    for (const json::Value& o : off->items)
      FACET_CHECK(o.kind == json::Value::Kind::Integer && o.integer >= 0, "load",
                  "non-negative integer data_offsets for " + where, o.text.empty() ? "another value" : o.text);
    e.begin = static_cast<uint64_t>(off->items[0].integer);
    e.end = static_cast<uint64_t>(off->items[1].integer);
    // The byte count of the shape, refusing any product that overflows (a header may lie).
    uint64_t want = dtype_size(e.dtype);
    for (int64_t s : e.shape)
      FACET_CHECK(!__builtin_mul_overflow(want, static_cast<uint64_t>(s), &want), "load",
                  "a shape whose byte count fits in 64 bits for " + where, shape_str(e.shape));
    FACET_CHECK(e.begin <= e.end && e.end - e.begin == want, "load",
                std::to_string(want) + " bytes for " + shape_and_dtype(e.shape, e.dtype) + " at " + where,
                "data_offsets [" + std::to_string(e.begin) + ", " + std::to_string(e.end) + "]");
    FACET_CHECK(e.end <= data_bytes, "load",
                "data_offsets within the " + std::to_string(data_bytes) + " data bytes of the file for " + where,
                "end " + std::to_string(e.end) + " (truncated file?)");
    entries.push_back(std::move(e));
  }
  // The data must be tiled exactly: no overlaps, no holes, nothing after the last tensor.
  std::vector<const Entry*> by_offset;
  for (const Entry& e : entries) by_offset.push_back(&e);
  std::sort(by_offset.begin(), by_offset.end(), [](const Entry* a, const Entry* b) { return a->begin < b->begin; });
  uint64_t cursor = 0;
  for (const Entry* e : by_offset) {
    FACET_CHECK(e->begin == cursor, "load", "tensors that tile the data without gaps or overlaps in " + path,
                "\"" + e->name + "\" starting at byte " + std::to_string(e->begin) + " where " + std::to_string(cursor) +
                    " was next");
    cursor = e->end;
  }
  FACET_CHECK(cursor == data_bytes, "load", std::to_string(cursor) + " data bytes after the header in " + path,
              std::to_string(data_bytes));

  NamedTensors out;
  const std::streamoff data_start = static_cast<std::streamoff>(8 + header_bytes);
  for (const Entry& e : entries) {
    Tensor t = empty(e.shape, e.dtype);
    in.seekg(data_start + static_cast<std::streamoff>(e.begin));
    in.read(static_cast<char*>(t.raw_data()), static_cast<std::streamsize>(e.end - e.begin));
    if (!in) io_error("load", "the data of \"" + e.name + "\" in", path);
    out.emplace_back(e.name, t);
  }
  return out;
}

void save(const Module& module, const std::string& path) {
  NamedTensors all = module.named_parameters();
  for (auto& entry : module.named_buffers()) all.push_back(entry);
  save_tensors(all, path);
}

void load(Module& module, const std::string& path) {
  const NamedTensors loaded = load_tensors(path);
  std::map<std::string, Tensor> by_name(loaded.begin(), loaded.end());
  NamedTensors targets = module.named_parameters();
  for (auto& entry : module.named_buffers()) targets.push_back(entry);
  std::string file_names;
  for (const auto& [name, t] : loaded) file_names += (file_names.empty() ? "" : ", ") + name;
  // Check everything first, so a mismatch loads nothing.
  for (const auto& [name, t] : targets) {
    const auto it = by_name.find(name);
    FACET_CHECK(it != by_name.end(), "load", "a tensor named \"" + name + "\" in " + path,
                "none (the file has: " + file_names + ")");
    FACET_CHECK(it->second.shape() == t.shape() && it->second.dtype() == t.dtype(), "load",
                "\"" + name + "\" as " + shape_and_dtype(t.shape(), t.dtype()),
                shape_and_dtype(it->second.shape(), it->second.dtype()) + " in " + path);
  }
  FACET_CHECK(loaded.size() == targets.size(), "load", "no tensors besides the module's in " + path,
              std::to_string(loaded.size() - targets.size()) + " more (the file has: " + file_names + ")");
  NoGradGuard no_grad;
  for (auto& [name, t] : targets) ops::copy_(t, ops::to_device(by_name.at(name), t.device()));
}

}  // namespace facet::nn
