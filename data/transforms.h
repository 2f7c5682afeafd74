#pragma once
// Per-sample image transforms for the DataLoader. Images are CPU float32 [C, H, W]; each
// transform returns a new contiguous image. Random transforms draw from the sample's own
// counter-based stream (data/sample_random.h), so a sample's augmentation is a function of
// (seed, epoch, sample index) only: the same whichever thread, batch or resume point runs it.
#include <cstdint>
#include <functional>
#include <vector>

#include "core/error.h"
#include "core/tensor.h"
#include "data/sample_random.h"

namespace facet::data {

// Where one transform call stands; the DataLoader fills it in.
struct SampleContext {
  uint64_t seed = 0;
  uint64_t epoch = 0;
  int64_t index = 0;    // the sample's index in the dataset (not its place in the batch)
  uint32_t stream = 0;  // set by compose() so that its steps draw different words
  // Four random words for this (seed, epoch, index, stream); a transform that wants more than four
  // asks for draw 1 ... 254, kept in the stream's top byte, which compose() leaves free (0xFF is
  // the top byte of the shuffle's and the pair lists' streams).
  philox::Block block(uint32_t draw = 0) const {
    FACET_CHECK(draw < 255, "SampleContext::block", "a draw number in [0, 254]", std::to_string(draw));
    return random_block(seed, static_cast<uint64_t>(index), static_cast<uint32_t>(epoch), stream | draw << 24);
  }
};

using Transform = std::function<Tensor(const Tensor& image, const SampleContext& context)>;

// ---- the deterministic operations (exposed so tests can force an outcome) ----
// Columns reversed.
Tensor hflip(const Tensor& image);
// The [C, height, width] window at (top, left) of the image zero-padded by `padding` on all four
// sides: top and left count in the padded image, from 0 to H + 2 * padding - height.
Tensor pad_crop(const Tensor& image, int64_t padding, int64_t top, int64_t left, int64_t height, int64_t width);
// (x - mean[c]) / std_dev[c] per channel; one value applies to every channel.
Tensor normalize_image(const Tensor& image, const std::vector<float>& mean, const std::vector<float>& std_dev);
// The height x width rectangle at (top, left) set to `value` in every channel.
Tensor erase(const Tensor& image, int64_t top, int64_t left, int64_t height, int64_t width, float value);

// ---- transforms ----
Transform normalize(std::vector<float> mean, std::vector<float> std_dev);
// Zero-pads by `padding`, then crops a height x width window at an offset drawn uniformly from
// every position that fits (torchvision's RandomCrop(size, padding)).
Transform random_crop(int64_t height, int64_t width, int64_t padding);
// Flips with probability p (one float draw u in [0, 1): flip when u < p).
Transform random_horizontal_flip(double p = 0.5);
// Random erasing (Zhong et al., "Random Erasing Data Augmentation", AAAI 2020; torchvision's
// RandomErasing): with probability p, up to 10 tries each draw an area uniform in
// [scale_min, scale_max] times the image's and a log aspect ratio (height / width) uniform in
// [log ratio_min, log ratio_max]; the first rectangle (sides rounded) that fits strictly inside
// the image is erased to `value` at a uniform position. Placed after normalize, value 0 is the
// data's mean. No try fits: the image is unchanged.
Transform random_erasing(double p = 0.5, double scale_min = 0.02, double scale_max = 0.33, double ratio_min = 0.3,
                         double ratio_max = 3.3, float value = 0.0f);
// The steps in order; step i draws from stream context.stream * 256 + i + 1, distinct for up to
// 255 steps and three levels of nesting (the stream's low 24 bits).
Transform compose(std::vector<Transform> steps);

}  // namespace facet::data
