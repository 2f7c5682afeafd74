#pragma once
// IDX files, the format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/): a magic
// number 00 00 <type> <ndims>, ndims big-endian uint32 sizes, then the elements in row-major
// order. Only unsigned bytes (type 0x08) are read: the images and labels of those data sets.
// Files may be plain or gzip; the reader tells them apart by their first bytes, not their name.
#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace facet::data {

// One IDX file as stored: its sizes and its bytes.
struct IdxData {
  std::vector<int64_t> dims;
  std::vector<uint8_t> values;  // prod(dims) bytes, row-major
  bool gzip = false;            // whether the file was gzip-compressed
};

// Reads and validates a whole file: the magic number, the element type, the sizes, and that the
// data is exactly as long as the sizes say (a truncated file, trailing bytes and sizes that lie
// each give a facet::Error naming the file and what was wrong). In a gzip file the check covers
// the decompressed bytes; bytes after the gzip stream itself are ignored, as zlib's gzread does.
IdxData read_idx(const std::string& path);

// An image file [N, rows, cols] as float32 [N, 1, rows, cols], each byte divided by 255.
Tensor read_idx_images(const std::string& path);
// A label file [N] as int64 [N].
Tensor read_idx_labels(const std::string& path);

// Writes an unsigned-byte IDX file (gzip-compressed when `gzip`), atomically: a temporary file
// renamed over `path`. values.size() must equal prod(dims).
void write_idx(const std::string& path, const std::vector<int64_t>& dims, const std::vector<uint8_t>& values,
               bool gzip = false);

}  // namespace facet::data
