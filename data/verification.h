#pragma once
// Face-verification metrics, computed in double precision on the host: pairs of samples that are
// the same class or not, cosine scores of their embeddings, the LFW protocol's 10-fold accuracy,
// TAR at a fixed FAR, and the ROC curve.
//
// One rule throughout: a pair is accepted (predicted "same") when its score >= the threshold.
#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace facet::data {

struct Pair {
  int64_t a = 0, b = 0;  // sample indices, a != b
  bool same = false;     // whether the two share a label
  bool operator==(const Pair&) const = default;
};

// `per_kind` same-class pairs and `per_kind` different-class pairs of the int64 labels [N], drawn
// from the seed alone (data/sample_random.h): no index paired with itself, no pair twice (in
// either order). Same and different pairs alternate (same first), so every contiguous fold of
// an even length holds as many of each. A facet::Error when the labels cannot give that many.
std::vector<Pair> make_pairs(const Tensor& labels, int64_t per_kind, uint64_t seed);

// A plain text file, one pair a line: "a b 1" (same) or "a b 0", after a "# facet pairs" comment
// line; written atomically (a temporary file renamed over `path`).
void save_pairs(const std::vector<Pair>& pairs, const std::string& path);
// Reads save_pairs' format ('#' lines are comments); a malformed line is a facet::Error naming
// the file and the line.
std::vector<Pair> load_pairs(const std::string& path);

// cos(e[a], e[b]) for each pair, of the rows of embeddings [N, D] (any float dtype or device):
// a.b / (max(|a|, 1e-8) * max(|b|, 1e-8)), as torch.nn.functional.cosine_similarity.
std::vector<double> pair_scores(const Tensor& embeddings, const std::vector<Pair>& pairs);

// The labels of the pairs, the form the metrics below take.
std::vector<bool> pair_labels(const std::vector<Pair>& pairs);

struct FoldAccuracy {
  double mean = 0;                 // mean of the fold accuracies
  double std = 0;                  // their population standard deviation (numpy's np.std, ddof 0)
  std::vector<double> accuracies;  // each fold's test accuracy
  std::vector<double> thresholds;  // the threshold chosen on the other folds
};

// The LFW protocol: the pairs split into `folds` contiguous folds in order (sklearn's
// KFold(n_splits, shuffle=False): the first n % folds folds have one pair more); for each fold,
// the threshold that maximizes accuracy over the other folds' pairs, then the accuracy of that
// threshold on the held-out fold. Candidate thresholds are the midpoints between consecutive
// distinct training scores, plus min - 1 (accept all) and max + 1 (reject all); of equally good
// candidates the lowest wins (as the argmax over an ascending grid in the common LFW scripts).
FoldAccuracy kfold_accuracy(const std::vector<double>& scores, const std::vector<bool>& same, int64_t folds = 10);

struct RocPoint {
  double threshold;  // accept score >= threshold (+infinity for the first point: accept none)
  double far;        // false accept rate: accepted different pairs / different pairs
  double tar;        // true accept rate: accepted same pairs / same pairs
};

// One point per distinct score, from the highest (plus the (0, 0) point first), as
// sklearn.metrics.roc_curve(drop_intermediate=False): FAR and TAR never decrease along it.
std::vector<RocPoint> roc_curve(const std::vector<double>& scores, const std::vector<bool>& same);

// The ROC point with the highest TAR among those with FAR <= max_far (of several with that TAR,
// the first: the highest threshold, the lowest FAR). Pairs with equal scores
// are accepted or rejected together, so the FAR reached may lie below max_far when a tie
// straddles it; that point's threshold, FAR and TAR are returned.
RocPoint tar_at_far(const std::vector<double>& scores, const std::vector<bool>& same, double max_far);

}  // namespace facet::data
