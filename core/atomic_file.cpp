#include "core/atomic_file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "core/error.h"

namespace facet {

namespace {

[[noreturn]] void io_error(const char* op, const std::string& what, const std::string& path) {
  throw Error(op, what + " " + path, std::strerror(errno));
}

// Removes the temporary file unless the write got as far as renaming it.
struct TempFile {
  std::string path;
  bool keep = false;
  ~TempFile() {
    if (!keep) std::remove(path.c_str());
  }
};

}  // namespace

void write_file_atomically(const std::string& path, const char* op, const std::function<bool(std::FILE*)>& write) {
  TempFile tmp{path + ".tmp-XXXXXX"};
  std::vector<char> name(tmp.path.begin(), tmp.path.end());
  name.push_back('\0');
  const int fd = mkstemp(name.data());
  if (fd < 0) {
    tmp.keep = true;  // nothing was created
    io_error(op, "a writable folder for", path);
  }
  tmp.path = name.data();
  // mkstemp creates the file 0600; the result gets the mode an ordinary file would (0666 & ~umask).
  const mode_t mask = umask(0);
  umask(mask);
  fchmod(fd, 0666 & ~mask);
  std::FILE* f = fdopen(fd, "wb");
  if (!f) {
    ::close(fd);
    io_error(op, "a stream for", tmp.path);
  }
  bool ok = write(f);
  ok = ok && std::fflush(f) == 0 && fsync(fileno(f)) == 0;
  ok = (std::fclose(f) == 0) && ok;
  if (!ok) io_error(op, "a complete write of", tmp.path);
  if (std::rename(tmp.path.c_str(), path.c_str()) != 0) io_error(op, "a rename onto", path);
  tmp.keep = true;
}

void write_file_atomically(const std::string& path, const std::string& bytes, const char* op) {
  write_file_atomically(path, op, [&](std::FILE* f) {
    return bytes.empty() || std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  });
}

}  // namespace facet
