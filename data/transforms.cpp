#include "data/transforms.h"

#include <cmath>
#include <utility>

#include "core/factory.h"
#include "core/ops.h"

namespace facet::data {

namespace {

// The image as contiguous CPU float32 [C, H, W], or a facet::Error naming the transform.
Tensor checked_image(const char* op, const Tensor& image) {
  FACET_CHECK(image.defined() && image.dim() == 3 && image.dtype() == kFloat32 && image.device().is_cpu(), op,
              "a float32 image [C, H, W] on the cpu", image.defined() ? image.describe() : "an undefined tensor");
  return ops::contiguous(image);
}

}  // namespace

Tensor hflip(const Tensor& image) {
  const Tensor in = checked_image("hflip", image);
  const int64_t rows = in.size(0) * in.size(1), w = in.size(2);
  Tensor out = empty(in.shape(), kFloat32);
  const float* src = in.data<float>();
  float* dst = out.data<float>();
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t x = 0; x < w; ++x) dst[r * w + x] = src[r * w + (w - 1 - x)];
  return out;
}

Tensor pad_crop(const Tensor& image, int64_t padding, int64_t top, int64_t left, int64_t height, int64_t width) {
  const Tensor in = checked_image("pad_crop", image);
  const int64_t c = in.size(0), h = in.size(1), w = in.size(2);
  FACET_CHECK(padding >= 0 && height >= 1 && width >= 1, "pad_crop", "padding >= 0 and a window of at least 1 x 1",
              "padding " + std::to_string(padding) + ", window " + std::to_string(height) + " x " + std::to_string(width));
  const int64_t ph = h + 2 * padding, pw = w + 2 * padding;
  FACET_CHECK(top >= 0 && left >= 0 && top + height <= ph && left + width <= pw, "pad_crop",
              "a " + std::to_string(height) + " x " + std::to_string(width) + " window inside the padded " +
                  std::to_string(ph) + " x " + std::to_string(pw) + " image",
              "top " + std::to_string(top) + ", left " + std::to_string(left));
  Tensor out = empty({c, height, width}, kFloat32);
  const float* src = in.data<float>();
  float* dst = out.data<float>();
  for (int64_t ch = 0; ch < c; ++ch)
    for (int64_t y = 0; y < height; ++y) {
      const int64_t sy = top + y - padding;  // row in the unpadded image
      for (int64_t x = 0; x < width; ++x) {
        const int64_t sx = left + x - padding;
        const bool inside = sy >= 0 && sy < h && sx >= 0 && sx < w;
        dst[(ch * height + y) * width + x] = inside ? src[(ch * h + sy) * w + sx] : 0.0f;
      }
    }
  return out;
}

Tensor normalize_image(const Tensor& image, const std::vector<float>& mean, const std::vector<float>& std_dev) {
  const Tensor in = checked_image("normalize", image);
  const int64_t c = in.size(0), plane = in.size(1) * in.size(2);
  auto per_channel = [c](const std::vector<float>& v) { return static_cast<int64_t>(v.size()) == c || v.size() == 1; };
  FACET_CHECK(per_channel(mean) && per_channel(std_dev), "normalize",
              "1 or " + std::to_string(c) + " values of mean and std for " + image.describe(),
              std::to_string(mean.size()) + " and " + std::to_string(std_dev.size()));
  Tensor out = empty(in.shape(), kFloat32);
  const float* src = in.data<float>();
  float* dst = out.data<float>();
  for (int64_t ch = 0; ch < c; ++ch) {
    const float m = mean[mean.size() == 1 ? 0 : ch], s = std_dev[std_dev.size() == 1 ? 0 : ch];
    for (int64_t i = 0; i < plane; ++i) dst[ch * plane + i] = (src[ch * plane + i] - m) / s;
  }
  return out;
}

Tensor erase(const Tensor& image, int64_t top, int64_t left, int64_t height, int64_t width, float value) {
  const Tensor in = checked_image("erase", image);
  const int64_t c = in.size(0), h = in.size(1), w = in.size(2);
  FACET_CHECK(top >= 0 && left >= 0 && height >= 0 && width >= 0 && top + height <= h && left + width <= w, "erase",
              "a rectangle inside the " + std::to_string(h) + " x " + std::to_string(w) + " image",
              std::to_string(height) + " x " + std::to_string(width) + " at top " + std::to_string(top) + ", left " +
                  std::to_string(left));
  Tensor out = ops::clone(in);  // the caller's image stays as it was
  float* dst = out.data<float>();
  for (int64_t ch = 0; ch < c; ++ch)
    for (int64_t y = top; y < top + height; ++y)
      for (int64_t x = left; x < left + width; ++x) dst[(ch * h + y) * w + x] = value;
  return out;
}

Transform normalize(std::vector<float> mean, std::vector<float> std_dev) {
  FACET_CHECK(!mean.empty() && mean.size() == std_dev.size(), "normalize", "as many mean values as std values (at least one)",
              std::to_string(mean.size()) + " and " + std::to_string(std_dev.size()));
  for (float s : std_dev) FACET_CHECK(s > 0, "normalize", "positive std values", std::to_string(s));
  return [mean = std::move(mean), std_dev = std::move(std_dev)](const Tensor& image, const SampleContext&) {
    return normalize_image(image, mean, std_dev);
  };
}

Transform random_crop(int64_t height, int64_t width, int64_t padding) {
  FACET_CHECK(height >= 1 && width >= 1 && padding >= 0, "random_crop", "a window of at least 1 x 1 and padding >= 0",
              std::to_string(height) + " x " + std::to_string(width) + ", padding " + std::to_string(padding));
  return [=](const Tensor& image, const SampleContext& context) {
    FACET_CHECK(image.defined() && image.dim() == 3, "random_crop", "an image [C, H, W]",
                image.defined() ? image.describe() : "an undefined tensor");
    const int64_t free_rows = image.size(1) + 2 * padding - height, free_cols = image.size(2) + 2 * padding - width;
    FACET_CHECK(free_rows >= 0 && free_cols >= 0, "random_crop",
                "an image that holds a " + std::to_string(height) + " x " + std::to_string(width) +
                    " window after padding by " + std::to_string(padding),
                image.describe());
    const philox::Block b = context.block();
    const auto top = static_cast<int64_t>(random_below(b, static_cast<uint64_t>(free_rows) + 1));
    const auto left = static_cast<int64_t>(random_below_hi(b, static_cast<uint64_t>(free_cols) + 1));
    return pad_crop(image, padding, top, left, height, width);
  };
}

Transform random_horizontal_flip(double p) {
  FACET_CHECK(p >= 0 && p <= 1, "random_horizontal_flip", "a probability in [0, 1]", std::to_string(p));
  return [p](const Tensor& image, const SampleContext& context) {
    return philox::uniform_float(context.block().w[0]) < p ? hflip(image) : checked_image("random_horizontal_flip", image);
  };
}

Transform random_erasing(double p, double scale_min, double scale_max, double ratio_min, double ratio_max, float value) {
  FACET_CHECK(p >= 0 && p <= 1, "random_erasing", "a probability in [0, 1]", std::to_string(p));
  FACET_CHECK(scale_min > 0 && scale_min <= scale_max && scale_max <= 1, "random_erasing",
              "0 < scale_min <= scale_max <= 1", std::to_string(scale_min) + " and " + std::to_string(scale_max));
  FACET_CHECK(ratio_min > 0 && ratio_min <= ratio_max, "random_erasing", "0 < ratio_min <= ratio_max",
              std::to_string(ratio_min) + " and " + std::to_string(ratio_max));
  const double log_lo = std::log(ratio_min), log_hi = std::log(ratio_max);
  return [=](const Tensor& image, const SampleContext& context) {
    const Tensor in = checked_image("random_erasing", image);
    if (!(philox::uniform_float(context.block().w[0]) < p)) return in;
    const int64_t h = in.size(1), w = in.size(2);
    constexpr uint32_t kTries = 10;  // torchvision's
    for (uint32_t attempt = 1; attempt <= kTries; ++attempt) {
      const philox::Block b = context.block(attempt);
      const double area = static_cast<double>(h * w) * (scale_min + (scale_max - scale_min) * philox::uniform_float(b.w[0]));
      const double ratio = std::exp(log_lo + (log_hi - log_lo) * philox::uniform_float(b.w[1]));
      const auto eh = static_cast<int64_t>(std::round(std::sqrt(area * ratio)));
      const auto ew = static_cast<int64_t>(std::round(std::sqrt(area / ratio)));
      if (eh < 1 || ew < 1 || eh >= h || ew >= w) continue;
      const philox::Block at = context.block(kTries + 1);  // the one rectangle that fits: its place
      const auto top = static_cast<int64_t>(random_below(at, static_cast<uint64_t>(h - eh) + 1));
      const auto left = static_cast<int64_t>(random_below_hi(at, static_cast<uint64_t>(w - ew) + 1));
      return erase(in, top, left, eh, ew, value);
    }
    return in;
  };
}

Transform compose(std::vector<Transform> steps) {
  for (size_t i = 0; i < steps.size(); ++i)
    FACET_CHECK(static_cast<bool>(steps[i]), "compose", "a callable transform at every step",
                "an empty one at step " + std::to_string(i));
  FACET_CHECK(steps.size() <= 255, "compose", "at most 255 steps", std::to_string(steps.size()));
  return [steps = std::move(steps)](const Tensor& image, const SampleContext& context) {
    Tensor x = image;
    for (size_t i = 0; i < steps.size(); ++i) {
      SampleContext step = context;
      step.stream = context.stream * 256u + static_cast<uint32_t>(i) + 1u;
      x = steps[i](x, step);
    }
    return x;
  };
}

}  // namespace facet::data
