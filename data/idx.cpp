#include "data/idx.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>

#include "core/factory.h"
#include "core/shape.h"
#include "core/atomic_file.h"

namespace facet::data {

namespace {

constexpr uint8_t kUnsignedByte = 0x08;
constexpr size_t kChunk = size_t{1} << 20;

std::string hex_byte(uint8_t b) {
  char s[8];
  std::snprintf(s, sizeof s, "0x%02X", b);
  return s;
}

// The element types of the IDX format, for a message that says what a refused file holds.
const char* idx_type_name(uint8_t type) {
  switch (type) {
    case 0x08: return "unsigned byte";
    case 0x09: return "signed byte";
    case 0x0B: return "int16";
    case 0x0C: return "int32";
    case 0x0D: return "float32";
    case 0x0E: return "float64";
  }
  return nullptr;
}

std::string dims_str(const std::vector<int64_t>& dims) { return shape_str(Shape(dims.begin(), dims.end())); }

// A gzFile that closes itself. gzopen reads plain files as they are ("transparent" mode), so one
// reader serves both kinds and the kind is decided by the content.
struct GzReader {
  gzFile f = nullptr;
  std::string path;
  ~GzReader() {
    if (f) gzclose(f);
  }

  // Reads up to n bytes (fewer only at the end of the data); a corrupt or cut gzip stream is
  // reported by `stream_problem` afterwards.
  size_t read(void* dst, size_t n) {
    size_t got = 0;
    while (got < n) {
      const unsigned want = static_cast<unsigned>(std::min<size_t>(n - got, INT_MAX));
      const int r = gzread(f, static_cast<char*>(dst) + got, want);
      if (r <= 0) break;
      got += static_cast<size_t>(r);
    }
    return got;
  }

  // "" when the stream is sound so far, else zlib's word for what is wrong with it.
  std::string stream_problem() {
    int code = Z_OK;
    const char* msg = gzerror(f, &code);
    if (code == Z_OK || code == Z_STREAM_END) return "";
    return msg && *msg ? msg : "zlib error " + std::to_string(code);
  }
};

}  // namespace

IdxData read_idx(const std::string& path) {
  GzReader in{nullptr, path};
  errno = 0;
  in.f = gzopen(path.c_str(), "rb");
  if (!in.f) throw Error("read_idx", "a readable IDX file at " + path, errno ? std::strerror(errno) : "a zlib failure");
  gzbuffer(in.f, 1 << 17);
  IdxData out;
  out.gzip = gzdirect(in.f) == 0;
  const std::string where = path + (out.gzip ? " (gzip)" : "");
  auto stream_note = [&] {
    const std::string p = in.stream_problem();
    return p.empty() ? std::string() : " (" + std::string(out.gzip ? "gzip stream: " : "") + p + ")";
  };

  uint8_t magic[4] = {0, 0, 0, 0};
  const size_t got_magic = in.read(magic, 4);
  FACET_CHECK(got_magic == 4, "read_idx", "a 4-byte IDX magic number at the start of " + where,
              std::to_string(got_magic) + " bytes (empty or truncated file?)" + stream_note());
  FACET_CHECK(magic[0] == 0 && magic[1] == 0, "read_idx",
              "an IDX magic number starting with 0x00 0x00 in " + where,
              hex_byte(magic[0]) + " " + hex_byte(magic[1]) + " " + hex_byte(magic[2]) + " " + hex_byte(magic[3]) +
                  " (not an IDX file?)");
  if (magic[2] != kUnsignedByte) {
    const char* name = idx_type_name(magic[2]);
    throw Error("read_idx", "element type 0x08 (unsigned byte) in the magic number of " + where,
                hex_byte(magic[2]) + (name ? " (" + std::string(name) + "), which facet does not read"
                                           : std::string(" (not an IDX element type)")));
  }
  const int ndims = magic[3];
  FACET_CHECK(ndims >= 1, "read_idx", "at least one dimension in the magic number of " + where, "0");

  uint8_t raw[255 * 4];
  const size_t want_dims = static_cast<size_t>(ndims) * 4;
  const size_t got_dims = in.read(raw, want_dims);
  FACET_CHECK(got_dims == want_dims, "read_idx",
              std::to_string(ndims) + " sizes (" + std::to_string(want_dims) + " bytes) after the magic number of " + where,
              std::to_string(got_dims) + " bytes (truncated file?)" + stream_note());
  uint64_t total = 1;
  for (int d = 0; d < ndims; ++d) {
    const uint8_t* p = raw + 4 * d;
    const uint32_t size = (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
    out.dims.push_back(size);
  }
  for (int64_t s : out.dims) {
    FACET_CHECK(s >= 1, "read_idx", "sizes of at least 1 in " + where, "dims " + dims_str(out.dims));
    // Sizes that overflow cannot describe data any file holds: refuse them before comparing.
    FACET_CHECK(!__builtin_mul_overflow(total, static_cast<uint64_t>(s), &total) && total <= (uint64_t{1} << 40),
                "read_idx", "sizes whose product is at most 2^40 bytes in " + where, "dims " + dims_str(out.dims));
  }

  // Read in chunks, so that sizes which lie about a short file never allocate what they claim.
  while (out.values.size() < total) {
    const size_t have = out.values.size();
    const size_t step = static_cast<size_t>(std::min<uint64_t>(kChunk, total - have));
    out.values.resize(have + step);
    const size_t got = in.read(out.values.data() + have, step);
    out.values.resize(have + got);
    if (got < step) break;
  }
  FACET_CHECK(out.values.size() == total, "read_idx",
              std::to_string(total) + " bytes of data after the header of " + where + " (dims " + dims_str(out.dims) + ")",
              std::to_string(out.values.size()) + " (truncated file, or dims larger than the data?)" + stream_note());
  uint64_t extra = 0;
  std::vector<uint8_t> sink(kChunk);
  for (size_t got; (got = in.read(sink.data(), sink.size())) > 0;) extra += got;
  FACET_CHECK(extra == 0, "read_idx",
              "the data of " + where + " to end after the " + std::to_string(total) + " bytes that dims " +
                  dims_str(out.dims) + " give",
              std::to_string(extra) + " more bytes (trailing garbage, or dims smaller than the data?)");
  const std::string problem = in.stream_problem();
  FACET_CHECK(problem.empty(), "read_idx", "a sound gzip stream in " + where, problem);
  return out;
}

Tensor read_idx_images(const std::string& path) {
  IdxData idx = read_idx(path);
  FACET_CHECK(idx.dims.size() == 3, "read_idx_images", "an IDX image file with 3 dims [N, rows, cols] in " + path,
              "dims " + dims_str(idx.dims));
  Tensor t = empty({idx.dims[0], 1, idx.dims[1], idx.dims[2]}, kFloat32);
  float* dst = t.data<float>();
  // A division, not a multiplication by 1/255: each value is the correctly rounded byte / 255.
  for (size_t i = 0; i < idx.values.size(); ++i) dst[i] = static_cast<float>(idx.values[i]) / 255.0f;
  return t;
}

Tensor read_idx_labels(const std::string& path) {
  IdxData idx = read_idx(path);
  FACET_CHECK(idx.dims.size() == 1, "read_idx_labels", "an IDX label file with 1 dim [N] in " + path,
              "dims " + dims_str(idx.dims));
  Tensor t = empty({idx.dims[0]}, kInt64);
  int64_t* dst = t.data<int64_t>();
  for (size_t i = 0; i < idx.values.size(); ++i) dst[i] = idx.values[i];
  return t;
}

namespace {

// A whole gzip member (header, deflate data, CRC and length trailer) in memory.
std::string gzip_compress(const std::string& bytes, const std::string& path) {
  z_stream zs{};
  // windowBits 15 + 16 asks deflate for the gzip wrapper instead of zlib's.
  FACET_CHECK(deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK, "write_idx",
              "a zlib deflate stream for " + path, "an initialization failure");
  std::string out(deflateBound(&zs, static_cast<uLong>(bytes.size())), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  zs.avail_in = static_cast<uInt>(bytes.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  const int ret = deflate(&zs, Z_FINISH);
  const size_t written = zs.total_out;
  deflateEnd(&zs);
  FACET_CHECK(ret == Z_STREAM_END, "write_idx", "a finished gzip stream for " + path, "zlib code " + std::to_string(ret));
  out.resize(written);
  return out;
}

}  // namespace

void write_idx(const std::string& path, const std::vector<int64_t>& dims, const std::vector<uint8_t>& values, bool gzip) {
  FACET_CHECK(!dims.empty() && dims.size() <= 255, "write_idx", "1 to 255 dims for " + path,
              std::to_string(dims.size()));
  uint64_t total = 1;
  for (int64_t s : dims) {
    FACET_CHECK(s >= 1 && s <= int64_t{UINT32_MAX}, "write_idx", "sizes from 1 to 2^32 - 1 for " + path,
                "dims " + dims_str(dims));
    FACET_CHECK(!__builtin_mul_overflow(total, static_cast<uint64_t>(s), &total), "write_idx",
                "sizes whose product fits in 64 bits for " + path, "dims " + dims_str(dims));
  }
  FACET_CHECK(values.size() == total, "write_idx", std::to_string(total) + " values for dims " + dims_str(dims),
              std::to_string(values.size()));
  // gzip keeps sizes in 32 bits per call; the writer serves tests and small files.
  FACET_CHECK(!gzip || total < (uint64_t{1} << 31), "write_idx", "under 2^31 bytes for a gzip file " + path,
              std::to_string(total));
  std::string bytes = {0, 0, static_cast<char>(kUnsignedByte), static_cast<char>(dims.size())};
  for (int64_t s : dims)
    for (int shift = 24; shift >= 0; shift -= 8) bytes.push_back(static_cast<char>((static_cast<uint64_t>(s) >> shift) & 0xFF));
  bytes.append(reinterpret_cast<const char*>(values.data()), values.size());
  write_file_atomically(path, gzip ? gzip_compress(bytes, path) : bytes, "write_idx");
}

}  // namespace facet::data
