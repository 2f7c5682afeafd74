// Face-verification metrics on hand-made scores whose answers were worked out by hand: pair
// lists, cosine scores, LFW 10-fold accuracy, the ROC curve and TAR at a fixed FAR.
#include <stdlib.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <set>

#include "tests/helpers.h"

using namespace facet;
namespace fs = std::filesystem;

namespace {

using tests::TempDir;

void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
}

// Labels 0..classes-1, `per_class` of each, interleaved.
Tensor class_labels(int64_t classes, int64_t per_class) {
  std::vector<int64_t> v;
  for (int64_t i = 0; i < classes * per_class; ++i) v.push_back(i % classes);
  return tensor(v);
}

// Checks the promises of make_pairs for these labels.
void check_pairs(const std::vector<data::Pair>& pairs, const std::vector<int64_t>& labels, int64_t per_kind) {
  REQUIRE(pairs.size() == size_t(2 * per_kind));
  std::set<std::pair<int64_t, int64_t>> seen;
  for (size_t i = 0; i < pairs.size(); ++i) {
    const data::Pair& p = pairs[i];
    CHECK(p.same == (i % 2 == 0));  // same, different, same, ...
    CHECK(p.a != p.b);
    REQUIRE(p.a >= 0);
    REQUIRE(p.b >= 0);
    REQUIRE(p.a < int64_t(labels.size()));
    REQUIRE(p.b < int64_t(labels.size()));
    CHECK((labels[p.a] == labels[p.b]) == p.same);
    CHECK(seen.insert({std::min(p.a, p.b), std::max(p.a, p.b)}).second);  // never twice
  }
}

}  // namespace

TEST_SUITE("verification") {

TEST_CASE("make_pairs: seeded, alternating, no self pairs, no repeats; the full-list path too") {
  const Tensor labels = class_labels(10, 30);
  const std::vector<int64_t> lv = labels.to_vector<int64_t>();
  const std::vector<data::Pair> a = data::make_pairs(labels, 100, 42);
  check_pairs(a, lv, 100);
  CHECK(a == data::make_pairs(labels, 100, 42));
  CHECK(a != data::make_pairs(labels, 100, 43));
  // Asking for most of what exists takes the list-and-pick path: 3 classes of 2 give 3 same pairs.
  const Tensor small = tensor(std::vector<int64_t>{0, 1, 2, 0, 1, 2});
  const std::vector<data::Pair> all_same = data::make_pairs(small, 3, 1);
  check_pairs(all_same, small.to_vector<int64_t>(), 3);
  CHECK(all_same == data::make_pairs(small, 3, 1));
  // Both kinds listed whole: {0, 0, 0, 1} has 3 same and 3 different pairs.
  const Tensor lopsided = tensor(std::vector<int64_t>{0, 0, 0, 1});
  const std::vector<data::Pair> every = data::make_pairs(lopsided, 3, 8);
  check_pairs(every, lopsided.to_vector<int64_t>(), 3);
  for (size_t i = 1; i < every.size(); i += 2) CHECK(std::max(every[i].a, every[i].b) == 3);
  tests::expect_error([&] { data::make_pairs(small, 4, 1); },
                      {"make_pairs", "at most 3 distinct same-class pairs from 6 labels in 3 classes", "a request for 4"});
  tests::expect_error([&] { data::make_pairs(tensor(std::vector<int64_t>{5, 5, 5}), 1, 1); },
                      {"make_pairs", "at most 0 distinct different-class pairs"});
  tests::expect_error([&] { data::make_pairs(zeros({4}), 1, 1); }, {"make_pairs", "int64 labels [N]", "float32[4]"});
  CHECK(data::make_pairs(small, 0, 1).empty());
}

TEST_CASE("pairs files: a round trip, atomic, and a bad line named by its number") {
  TempDir dir;
  const std::vector<data::Pair> pairs = data::make_pairs(class_labels(4, 5), 6, 9);
  data::save_pairs(pairs, dir.file("pairs.txt"));
  CHECK(dir.entries() == 1);  // no temporary file left
  CHECK(data::load_pairs(dir.file("pairs.txt")) == pairs);
  std::ifstream in(dir.file("pairs.txt"));
  std::string first, second;
  std::getline(in, first);
  std::getline(in, second);
  CHECK(first.rfind("# facet pairs", 0) == 0);
  CHECK(second == std::to_string(pairs[0].a) + " " + std::to_string(pairs[0].b) + " 1");

  write_text(dir.file("bad.txt"), "# comment\n1 2 1\n\n3 x 0\n");
  tests::expect_error([&] { data::load_pairs(dir.file("bad.txt")); },
                      {"load_pairs", dir.file("bad.txt") + " line 4", "\"3 x 0\""});
  write_text(dir.file("self.txt"), "3 3 1\n");
  tests::expect_error([&] { data::load_pairs(dir.file("self.txt")); }, {"line 1", "a != b", "\"3 3 1\""});
  write_text(dir.file("flag.txt"), "1 2 2\n");
  tests::expect_error([&] { data::load_pairs(dir.file("flag.txt")); }, {"same 0 or 1", "\"1 2 2\""});
  write_text(dir.file("extra.txt"), "1 2 1 7\n");
  tests::expect_error([&] { data::load_pairs(dir.file("extra.txt")); }, {"line 1", "\"1 2 1 7\""});
  tests::expect_error([&] { data::load_pairs(dir.file("missing.txt")); },
                      {"load_pairs", dir.file("missing.txt"), "No such file"});
  tests::expect_error([&] { data::save_pairs({{1, 1, true}}, dir.file("x.txt")); },
                      {"save_pairs", "two different non-negative indices"});
  CHECK_FALSE(fs::exists(dir.file("x.txt")));
}

TEST_CASE("pair_scores: the cosine of the rows, any float dtype; zero rows score 0") {
  const Tensor e = tensor(std::vector<float>{1, 0, 0, 2, 3, 3, 2, 0, 0, 0}, {5, 2});
  const std::vector<data::Pair> pairs = {{0, 1, false}, {0, 2, true}, {0, 3, true}, {2, 1, false}, {4, 0, false}};
  const std::vector<double> s = data::pair_scores(e, pairs);
  REQUIRE(s.size() == 5);
  CHECK(s[0] == 0.0);
  CHECK(s[1] == doctest::Approx(1 / std::sqrt(2.0)).epsilon(1e-15));
  CHECK(s[2] == doctest::Approx(1.0).epsilon(1e-15));
  CHECK(s[3] == doctest::Approx(1 / std::sqrt(2.0)).epsilon(1e-15));
  CHECK(s[4] == 0.0);
  CHECK(data::pair_scores(e.to(kFloat64), pairs) == s);
  CHECK(data::pair_labels(pairs) == std::vector<bool>{false, true, true, false, false});
  tests::expect_error([&] { data::pair_scores(e, {{0, 5, true}}); },
                      {"pair_scores", "indices in [0, 5)", "pair 0: 0 and 5"});
  tests::expect_error([&] { data::pair_scores(zeros({5}), pairs); }, {"pair_scores", "[N, D]"});
}

TEST_CASE("perfectly separable scores: accuracy 1 in every fold, TAR 1 at every FAR") {
  std::vector<double> scores;
  std::vector<bool> same;
  for (int i = 0; i < 300; ++i) {
    scores.push_back(0.5 + 0.001 * i);  // same pairs: 0.5 .. 0.799
    same.push_back(true);
    scores.push_back(-0.2 + 0.001 * i);  // different pairs: -0.2 .. 0.099
    same.push_back(false);
  }
  const data::FoldAccuracy acc = data::kfold_accuracy(scores, same);
  CHECK(acc.mean == 1.0);
  CHECK(acc.std == 0.0);
  REQUIRE(acc.accuracies.size() == 10);
  for (double t : acc.thresholds) {
    CHECK(t > 0.099);
    CHECK(t < 0.5);
  }
  for (double far : {1e-2, 1e-3, 0.0}) {
    const data::RocPoint p = data::tar_at_far(scores, same, far);
    CHECK(p.tar == 1.0);
    CHECK(p.far == 0.0);
    CHECK(p.threshold == doctest::Approx(0.5));
  }
}

TEST_CASE("kfold_accuracy: two folds worked by hand; population std; the lowest of tied thresholds") {
  // Fold 0: 0.9 same, 0.5 diff, 0.6 diff.  Fold 1: 0.7 same, 0.8 same, 0.2 diff.
  // Fold 0 held out: training {0.2 d, 0.7 s, 0.8 s} is split best at (0.2 + 0.7) / 2 = 0.45; on
  //   fold 0 that accepts 0.9 (right), 0.5 and 0.6 (both wrong): 1/3.
  // Fold 1 held out: training {0.5 d, 0.6 d, 0.9 s} is split best at 0.75; on fold 1 that rejects
  //   0.7 (wrong), accepts 0.8 (right), rejects 0.2 (right): 2/3.
  // Mean 1/2, population std 1/6 (the sample std would be 0.2357).
  const std::vector<double> scores = {0.9, 0.5, 0.6, 0.7, 0.8, 0.2};
  const std::vector<bool> same = {true, false, false, true, true, false};
  const data::FoldAccuracy acc = data::kfold_accuracy(scores, same, 2);
  REQUIRE(acc.accuracies.size() == 2);
  CHECK(acc.thresholds[0] == doctest::Approx(0.45).epsilon(1e-12));
  CHECK(acc.thresholds[1] == doctest::Approx(0.75).epsilon(1e-12));
  CHECK(acc.accuracies[0] == doctest::Approx(1.0 / 3).epsilon(1e-15));
  CHECK(acc.accuracies[1] == doctest::Approx(2.0 / 3).epsilon(1e-15));
  CHECK(acc.mean == doctest::Approx(0.5).epsilon(1e-15));
  CHECK(acc.std == doctest::Approx(1.0 / 6).epsilon(1e-12));

  // Training {0.2 d, 0.4 s, 0.6 d, 0.8 s}: thresholds 0.3 and 0.7 both get 3 of 4; 0.3 is chosen.
  const std::vector<double> tie_scores = {0.2, 0.4, 0.6, 0.8, 0.2, 0.4, 0.6, 0.8};
  const std::vector<bool> tie_same = {false, true, false, true, false, true, false, true};
  const data::FoldAccuracy tie = data::kfold_accuracy(tie_scores, tie_same, 2);
  CHECK(tie.thresholds[0] == doctest::Approx(0.3).epsilon(1e-12));
  CHECK(tie.thresholds[1] == doctest::Approx(0.3).epsilon(1e-12));
  CHECK(tie.mean == 0.75);
}

TEST_CASE("kfold_accuracy: ten folds of two pairs with one outlier, worked by hand") {
  // Pairs alternate same (0.8) and different (0.2), except pair 1 (fold 0) scores 0.95.
  // Fold 0 held out: the other 18 pairs separate at 0.5; fold 0 then gets 0.8 right and 0.95
  //   wrong: 1/2. Folds 1-9: the training set holds the outlier, yet 0.5 is still the best split
  //   (17 of 18), and each held-out fold is right: 1. Mean 0.95; population std
  //   sqrt((0.45^2 + 9 * 0.05^2) / 10) = 0.15.
  std::vector<double> scores;
  std::vector<bool> same;
  for (int i = 0; i < 10; ++i) {
    scores.push_back(0.8);
    same.push_back(true);
    scores.push_back(i == 0 ? 0.95 : 0.2);
    same.push_back(false);
  }
  const data::FoldAccuracy acc = data::kfold_accuracy(scores, same);
  REQUIRE(acc.accuracies.size() == 10);
  CHECK(acc.accuracies[0] == 0.5);
  for (int f = 1; f < 10; ++f) CHECK(acc.accuracies[f] == 1.0);
  for (double t : acc.thresholds) CHECK(t == doctest::Approx(0.5).epsilon(1e-12));
  CHECK(acc.mean == doctest::Approx(0.95).epsilon(1e-14));
  CHECK(acc.std == doctest::Approx(0.15).epsilon(1e-12));
  // Uneven folds follow sklearn's KFold: 23 pairs in 10 folds are 3, 3, 3, 2, ... .
  std::vector<double> s23(23, 0.0);
  std::vector<bool> y23(23, false);
  s23[2] = 1.0;  // one wrong (a different pair above the rest) at position 2: fold 0 of size 3
  const data::FoldAccuracy uneven = data::kfold_accuracy(s23, y23);
  CHECK(uneven.accuracies[0] == doctest::Approx(2.0 / 3).epsilon(1e-15));
  CHECK(uneven.accuracies[3] == 1.0);
  tests::expect_error([&] { data::kfold_accuracy(scores, same, 1); }, {"kfold_accuracy", "from 2 to 20 folds", "got 1"});
  tests::expect_error([&] { data::kfold_accuracy({0.1}, {true, false}); }, {"kfold_accuracy", "as many labels as scores"});
  tests::expect_error([&] { data::kfold_accuracy({0.1, NAN}, {true, false}, 2); }, {"finite scores", "at pair 1"});
}

TEST_CASE("roc_curve: one point per distinct score, ties taken together") {
  const std::vector<data::RocPoint> roc = data::roc_curve({0.9, 0.8, 0.8, 0.3}, {true, false, true, false});
  REQUIRE(roc.size() == 4);
  CHECK(std::isinf(roc[0].threshold));
  CHECK((roc[0].far == 0.0 && roc[0].tar == 0.0));
  CHECK((roc[1].threshold == 0.9 && roc[1].far == 0.0 && roc[1].tar == 0.5));
  CHECK((roc[2].threshold == 0.8 && roc[2].far == 0.5 && roc[2].tar == 1.0));
  CHECK((roc[3].threshold == 0.3 && roc[3].far == 1.0 && roc[3].tar == 1.0));
  tests::expect_error([&] { data::roc_curve({0.1, 0.2}, {true, true}); },
                      {"roc_curve", "both same and different pairs", "2 same and 0 different"});
}

TEST_CASE("tar_at_far: worked by hand, with the tie rule") {
  // 100 different pairs score 0, 2, ..., 198; 10 same pairs score 199, 197, ..., 181.
  // Descending: 199 s, 198 d, 197 s, 196 d, ... FAR <= 1e-2 allows one different pair: accept
  // >= 197 (2 same, 1 different): TAR 0.2. FAR <= 1e-3 allows none: accept >= 199: TAR 0.1.
  std::vector<double> scores;
  std::vector<bool> same;
  for (int i = 0; i < 100; ++i) {
    scores.push_back(2.0 * i);
    same.push_back(false);
  }
  for (int k = 0; k < 10; ++k) {
    scores.push_back(199.0 - 2 * k);
    same.push_back(true);
  }
  const data::RocPoint at2 = data::tar_at_far(scores, same, 1e-2);
  CHECK(at2.threshold == 197.0);
  CHECK(at2.far == 0.01);
  CHECK(at2.tar == 0.2);
  const data::RocPoint at3 = data::tar_at_far(scores, same, 1e-3);
  CHECK(at3.threshold == 199.0);
  CHECK(at3.far == 0.0);
  CHECK(at3.tar == doctest::Approx(0.1).epsilon(1e-15));
  // Now the different pair that scored 196 scores 199, tied with the best same pair. A tie is
  // accepted or rejected whole: at 1e-2 accepting >= 199 (1 different) fits, >= 197 (2: 199 and
  // 198) does not, so TAR 0.1. At 1e-3 nothing fits: TAR 0 at threshold +infinity.
  scores[98] = 199.0;
  const data::RocPoint tie2 = data::tar_at_far(scores, same, 1e-2);
  CHECK(tie2.threshold == 199.0);
  CHECK(tie2.far == 0.01);
  CHECK(tie2.tar == doctest::Approx(0.1).epsilon(1e-15));
  const data::RocPoint tie3 = data::tar_at_far(scores, same, 1e-3);
  CHECK(std::isinf(tie3.threshold));
  CHECK(tie3.tar == 0.0);
  tests::expect_error([&] { data::tar_at_far(scores, same, 1.5); }, {"tar_at_far", "a FAR in [0, 1]"});
}

TEST_CASE("the metrics end to end: pairs from labels, embeddings that cluster by class") {
  // Class c's embeddings point near direction c of 4: same pairs score near 1, different near 0.
  const Tensor labels = class_labels(4, 10);
  const std::vector<int64_t> lv = labels.to_vector<int64_t>();
  std::vector<float> e;
  for (size_t i = 0; i < lv.size(); ++i)
    for (int64_t d = 0; d < 4; ++d) e.push_back((d == lv[i] ? 1.0f : 0.0f) + 0.01f * static_cast<float>((i * 7 + d) % 5));
  const std::vector<data::Pair> pairs = data::make_pairs(labels, 60, 5);
  const std::vector<double> scores = data::pair_scores(tensor(e, {40, 4}), pairs);
  const std::vector<bool> same = data::pair_labels(pairs);
  CHECK(data::kfold_accuracy(scores, same).mean == 1.0);
  CHECK(data::tar_at_far(scores, same, 1e-2).tar == 1.0);
}

}  // TEST_SUITE("verification")
