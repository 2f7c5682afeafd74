#pragma once
// Files that are never seen half-written: the bytes go to a temporary file in the target's folder,
// which is flushed, synced and renamed over the target. A reader sees the old file or the whole
// new one; a failed write leaves the old file as it was and no temporary behind.
#include <cstdio>
#include <functional>
#include <string>

namespace facet {

// `write` streams the contents into the temporary file and returns whether every write
// succeeded; `op` names the caller in the facet::Error of any failure.
void write_file_atomically(const std::string& path, const char* op, const std::function<bool(std::FILE*)>& write);
void write_file_atomically(const std::string& path, const std::string& bytes, const char* op);

}  // namespace facet
