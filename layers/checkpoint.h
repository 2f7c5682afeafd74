#pragma once
// Checkpoints in the safetensors format: an 8-byte little-endian header length, a JSON header
// {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...}, then the raw
// little-endian data. Names are PyTorch's state-dict names ("body.0.weight"), so a file written
// here loads with safetensors.torch.load_file and `model.load_state_dict` in PyTorch, and back.
#include <string>

#include "layers/module.h"

namespace facet::nn {

// Written to a temporary file in the same folder, then renamed over `path`: a failed or
// interrupted save never leaves a half-written file, and the previous file stays as it was.
void save_tensors(const NamedTensors& tensors, const std::string& path);
// Every tensor of the file, on the CPU. A truncated file, a header that is not JSON, offsets that
// lie (outside the data, overlapping, leaving holes, disagreeing with dtype and shape) or an
// unsupported dtype is a facet::Error naming the file and what is wrong.
NamedTensors load_tensors(const std::string& path);

// The module's parameters and buffers under their state-dict names.
void save(const Module& module, const std::string& path);
// Strict, as PyTorch's load_state_dict: every name must be there with its shape and dtype, and
// no other; the first difference is a facet::Error naming it, and nothing is loaded then.
void load(Module& module, const std::string& path);

}  // namespace facet::nn
