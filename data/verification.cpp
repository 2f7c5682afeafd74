#include "data/verification.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>
#include <numeric>
#include <set>
#include <sstream>

#include "core/ops.h"
#include "core/atomic_file.h"
#include "data/sample_random.h"

namespace facet::data {

namespace {

uint64_t choose2(uint64_t n) { return n * (n - 1) / 2; }

philox::Block draw(uint64_t seed, uint64_t k, uint32_t phase, uint32_t stream) { return random_block(seed, k, phase, stream); }

// Picks `count` of `candidates` (all distinct) by a partial Fisher-Yates shuffle: used when the
// request is a large share of what exists, where drawing and rejecting repeats would stall.
std::vector<Pair> pick_from(std::vector<Pair> candidates, uint64_t count, uint64_t seed, uint32_t stream) {
  for (uint64_t i = 0; i < count; ++i) {
    const uint64_t j = i + random_below(draw(seed, i, 1, stream), candidates.size() - i);
    std::swap(candidates[i], candidates[j]);
  }
  candidates.resize(count);
  return candidates;
}

}  // namespace

std::vector<Pair> make_pairs(const Tensor& labels_in, int64_t per_kind, uint64_t seed) {
  FACET_CHECK(labels_in.defined() && labels_in.dim() == 1 && labels_in.dtype() == kInt64, "make_pairs", "int64 labels [N]",
              labels_in.defined() ? labels_in.describe() : "an undefined tensor");
  FACET_CHECK(per_kind >= 0, "make_pairs", "a non-negative number of pairs of each kind", std::to_string(per_kind));
  const std::vector<int64_t> labels = ops::to_device(ops::alias(labels_in), Device::cpu()).to_vector<int64_t>();
  const uint64_t n = labels.size();

  // The samples grouped by class: class c holds by_class[start[c], start[c] + count[c]).
  std::map<int64_t, std::vector<int64_t>> members;
  for (uint64_t i = 0; i < n; ++i) members[labels[i]].push_back(static_cast<int64_t>(i));
  std::vector<int64_t> by_class, eligible;  // eligible: samples whose class has another member
  std::map<int64_t, std::pair<uint64_t, uint64_t>> span;  // label -> (start, count)
  std::vector<uint64_t> place(n);                         // a sample's position within its class
  uint64_t same_total = 0;
  for (const auto& [label, idx] : members) {
    span[label] = {by_class.size(), idx.size()};
    for (size_t k = 0; k < idx.size(); ++k) place[idx[k]] = k;
    by_class.insert(by_class.end(), idx.begin(), idx.end());
    if (idx.size() >= 2) eligible.insert(eligible.end(), idx.begin(), idx.end());
    same_total += choose2(idx.size());
  }
  const uint64_t all_total = n >= 2 ? choose2(n) : 0, different_total = all_total - same_total;
  const auto want = static_cast<uint64_t>(per_kind);
  const std::string from = " from " + std::to_string(n) + " labels in " + std::to_string(members.size()) + " classes";
  FACET_CHECK(want <= same_total, "make_pairs", "at most " + std::to_string(same_total) + " distinct same-class pairs" + from,
              "a request for " + std::to_string(per_kind));
  FACET_CHECK(want <= different_total, "make_pairs",
              "at most " + std::to_string(different_total) + " distinct different-class pairs" + from,
              "a request for " + std::to_string(per_kind));

  // Draws pairs until `want` distinct ones are found. Each draw is a pure function of (seed, k).
  auto sample = [&](bool same) {
    const uint32_t stream = same ? kSamePairStream : kDifferentPairStream;
    const uint64_t total = same ? same_total : different_total;
    if (want * 4 > total) {  // a large share: list them all and pick
      // Class by class, so the listing costs the pairs it lists, not all N^2 of them.
      std::vector<Pair> all;
      all.reserve(total);
      for (auto c1 = members.begin(); c1 != members.end(); ++c1) {
        const std::vector<int64_t>& m1 = c1->second;
        if (same) {
          for (size_t i = 0; i < m1.size(); ++i)
            for (size_t j = i + 1; j < m1.size(); ++j) all.push_back({m1[i], m1[j], true});
          continue;
        }
        for (auto c2 = std::next(c1); c2 != members.end(); ++c2)
          for (int64_t a : m1)
            for (int64_t b : c2->second) all.push_back({std::min(a, b), std::max(a, b), false});
      }
      return pick_from(std::move(all), want, seed, stream);
    }
    // Same: a uniform over the samples with a classmate, b uniform over a's classmates.
    // Different: a uniform over all samples, b uniform over the samples of other classes.
    std::vector<Pair> out;
    std::set<std::pair<int64_t, int64_t>> seen;
    const uint64_t max_draws = 64 * want + 1024;
    for (uint64_t k = 0; out.size() < want; ++k) {
      FACET_CHECK(k < max_draws, "make_pairs",
                  std::to_string(want) + (same ? " same" : " different") + "-class pairs within " +
                      std::to_string(max_draws) + " draws" + from,
                  std::to_string(out.size()) + " distinct ones (ask for fewer)");
      const philox::Block blk = draw(seed, k, 0, stream);
      int64_t a, b;
      if (same) {
        a = eligible[random_below(blk, eligible.size())];
        const auto [start, count] = span[labels[a]];
        uint64_t r = random_below_hi(blk, count - 1);
        if (r >= place[a]) ++r;  // skip a itself
        b = by_class[start + r];
      } else {
        a = static_cast<int64_t>(random_below(blk, n));
        const auto [start, count] = span[labels[a]];
        const uint64_t r = random_below_hi(blk, n - count);
        b = by_class[r < start ? r : r + count];
      }
      if (seen.insert({std::min(a, b), std::max(a, b)}).second) out.push_back({a, b, same});
    }
    return out;
  };
  const std::vector<Pair> same = sample(true), different = sample(false);
  std::vector<Pair> pairs;
  pairs.reserve(2 * want);
  for (uint64_t i = 0; i < want; ++i) {
    pairs.push_back(same[i]);
    pairs.push_back(different[i]);
  }
  return pairs;
}

void save_pairs(const std::vector<Pair>& pairs, const std::string& path) {
  std::string text = "# facet pairs: index_a index_b same\n";
  for (const Pair& p : pairs) {
    FACET_CHECK(p.a >= 0 && p.b >= 0 && p.a != p.b, "save_pairs", "two different non-negative indices in each pair",
                std::to_string(p.a) + " and " + std::to_string(p.b));
    text += std::to_string(p.a) + " " + std::to_string(p.b) + (p.same ? " 1\n" : " 0\n");
  }
  write_file_atomically(path, text, "save_pairs");
}

std::vector<Pair> load_pairs(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error("load_pairs", "a readable pairs file at " + path, std::strerror(errno));
  std::vector<Pair> pairs;
  std::string line;
  for (int64_t number = 1; std::getline(in, line); ++number) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream words(line);
    std::vector<std::string> tokens;
    for (std::string w; words >> w;) tokens.push_back(w);
    int64_t v[3] = {-1, -1, -1};
    bool ok = tokens.size() == 3;
    for (size_t i = 0; ok && i < 3; ++i) {
      const char* s = tokens[i].data();
      const auto [end, ec] = std::from_chars(s, s + tokens[i].size(), v[i]);
      ok = ec == std::errc() && end == s + tokens[i].size();
    }
    ok = ok && v[0] >= 0 && v[1] >= 0 && v[0] != v[1] && (v[2] == 0 || v[2] == 1);
    FACET_CHECK(ok, "load_pairs",
                "\"a b same\" (indices >= 0, a != b, same 0 or 1) at " + path + " line " + std::to_string(number),
                "\"" + line + "\"");
    pairs.push_back({v[0], v[1], v[2] == 1});
  }
  FACET_CHECK(!in.bad(), "load_pairs", "a complete read of " + path, std::strerror(errno));
  return pairs;
}

std::vector<double> pair_scores(const Tensor& embeddings, const std::vector<Pair>& pairs) {
  FACET_CHECK(embeddings.defined() && embeddings.dim() == 2 && is_floating(embeddings.dtype()), "pair_scores",
              "float embeddings [N, D]", embeddings.defined() ? embeddings.describe() : "an undefined tensor");
  const Tensor e = ops::contiguous(ops::cast(ops::to_device(ops::alias(embeddings), Device::cpu()), kFloat64));
  const int64_t n = e.size(0), d = e.size(1);
  const double* rows = e.data<double>();
  std::vector<double> norms(static_cast<size_t>(n), -1.0);  // computed on first use
  auto norm = [&](int64_t i) {
    if (norms[i] < 0) {
      double s = 0;
      for (int64_t k = 0; k < d; ++k) s += rows[i * d + k] * rows[i * d + k];
      norms[i] = std::sqrt(s);
    }
    return std::max(norms[i], 1e-8);
  };
  std::vector<double> scores;
  scores.reserve(pairs.size());
  for (size_t p = 0; p < pairs.size(); ++p) {
    const auto [a, b, same] = pairs[p];
    FACET_CHECK(a >= 0 && a < n && b >= 0 && b < n, "pair_scores",
                "indices in [0, " + std::to_string(n) + ") (the rows of " + embeddings.describe() + ")",
                "pair " + std::to_string(p) + ": " + std::to_string(a) + " and " + std::to_string(b));
    double dot = 0;
    for (int64_t k = 0; k < d; ++k) dot += rows[a * d + k] * rows[b * d + k];
    scores.push_back(dot / (norm(a) * norm(b)));
  }
  return scores;
}

std::vector<bool> pair_labels(const std::vector<Pair>& pairs) {
  std::vector<bool> same;
  same.reserve(pairs.size());
  for (const Pair& p : pairs) same.push_back(p.same);
  return same;
}

namespace {

void check_scores(const char* op, const std::vector<double>& scores, const std::vector<bool>& same) {
  FACET_CHECK(scores.size() == same.size(), op, "as many labels as scores",
              std::to_string(same.size()) + " labels and " + std::to_string(scores.size()) + " scores");
  for (size_t i = 0; i < scores.size(); ++i)
    FACET_CHECK(std::isfinite(scores[i]), op, "finite scores", std::to_string(scores[i]) + " at pair " + std::to_string(i));
}

// The threshold with the most correct decisions on these pairs (see kfold_accuracy).
double best_threshold(std::vector<std::pair<double, bool>> train) {
  std::sort(train.begin(), train.end());
  int64_t positives = 0;
  for (const auto& [s, same] : train) positives += same;
  // Threshold below every score: all accepted, the positives are right.
  int64_t correct = positives, best_correct = correct;
  double best = train.front().first - 1.0;
  for (size_t i = 0; i < train.size();) {
    const double s = train[i].first;
    for (; i < train.size() && train[i].first == s; ++i) correct += train[i].second ? -1 : 1;  // now rejected
    // A threshold just above s: the midpoint to the next score, or max + 1 after the last.
    double t = s + 1.0;
    if (i < train.size()) {
      t = s + (train[i].first - s) / 2;
      if (t <= s) t = train[i].first;  // adjacent doubles: the next score itself still rejects s
    }
    if (correct > best_correct) {
      best_correct = correct;
      best = t;
    }
  }
  return best;
}

}  // namespace

FoldAccuracy kfold_accuracy(const std::vector<double>& scores, const std::vector<bool>& same, int64_t folds) {
  check_scores("kfold_accuracy", scores, same);
  const auto n = static_cast<int64_t>(scores.size());
  FACET_CHECK(folds >= 2 && folds <= n, "kfold_accuracy", "from 2 to " + std::to_string(n) + " folds (the pairs)",
              std::to_string(folds));
  FoldAccuracy out;
  int64_t begin = 0;
  for (int64_t f = 0; f < folds; ++f) {
    const int64_t end = begin + n / folds + (f < n % folds ? 1 : 0);
    std::vector<std::pair<double, bool>> train;
    train.reserve(static_cast<size_t>(n - (end - begin)));
    for (int64_t i = 0; i < n; ++i)
      if (i < begin || i >= end) train.emplace_back(scores[i], same[i]);
    const double t = best_threshold(std::move(train));
    int64_t correct = 0;
    for (int64_t i = begin; i < end; ++i) correct += (scores[i] >= t) == same[i];
    out.thresholds.push_back(t);
    out.accuracies.push_back(static_cast<double>(correct) / static_cast<double>(end - begin));
    begin = end;
  }
  out.mean = std::accumulate(out.accuracies.begin(), out.accuracies.end(), 0.0) / static_cast<double>(folds);
  double var = 0;
  for (double a : out.accuracies) var += (a - out.mean) * (a - out.mean);
  out.std = std::sqrt(var / static_cast<double>(folds));
  return out;
}

std::vector<RocPoint> roc_curve(const std::vector<double>& scores, const std::vector<bool>& same) {
  check_scores("roc_curve", scores, same);
  const auto positives = static_cast<int64_t>(std::count(same.begin(), same.end(), true));
  const auto negatives = static_cast<int64_t>(same.size()) - positives;
  FACET_CHECK(positives > 0 && negatives > 0, "roc_curve", "both same and different pairs",
              std::to_string(positives) + " same and " + std::to_string(negatives) + " different");
  std::vector<size_t> order(scores.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t i, size_t j) { return scores[i] > scores[j]; });
  std::vector<RocPoint> curve{{std::numeric_limits<double>::infinity(), 0.0, 0.0}};
  int64_t tp = 0, fp = 0;
  for (size_t k = 0; k < order.size();) {
    const double s = scores[order[k]];
    for (; k < order.size() && scores[order[k]] == s; ++k) (same[order[k]] ? tp : fp) += 1;
    curve.push_back({s, static_cast<double>(fp) / static_cast<double>(negatives),
                     static_cast<double>(tp) / static_cast<double>(positives)});
  }
  return curve;
}

RocPoint tar_at_far(const std::vector<double>& scores, const std::vector<bool>& same, double max_far) {
  FACET_CHECK(max_far >= 0 && max_far <= 1, "tar_at_far", "a FAR in [0, 1]", std::to_string(max_far));
  const std::vector<RocPoint> curve = roc_curve(scores, same);
  // FAR and TAR never decrease along the curve: the best TAR within max_far is reached at some
  // point, and the first point reaching it has the lowest FAR (the highest threshold).
  RocPoint best = curve.front();
  for (const RocPoint& p : curve)
    if (p.far <= max_far && p.tar > best.tar) best = p;
  return best;
}

}  // namespace facet::data
