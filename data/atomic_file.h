#pragma once
#include <string>

namespace facet::data {

// Writes `bytes` to `path` through a temporary file in the same folder that is flushed, synced
// and then renamed over `path`: a reader sees the old file or the whole new one, never half of
// it, and a failed write leaves nothing behind. `op` names the caller in the facet::Error.
void write_file_atomically(const std::string& path, const std::string& bytes, const char* op);

}  // namespace facet::data
