#pragma once
// The pictures, drawn by gnuplot (Debian's gnuplot-nox, pngcairo terminal) from data files the
// programs write beside them. Each returns false, after saying why on stderr, when gnuplot is
// missing or fails: a run's numbers never depend on its pictures.
#include <string>

namespace example {

// features.tsv: "x y label" lines; one colour per class. `unit_circle`: the normalized features
// of the cosine heads, each class on a ring of its own (radius 0.55 + 0.05 · label).
bool plot_features(const std::string& tsv, const std::string& png, const std::string& title, bool unit_circle);
// metrics.csv: "epoch,loss,train_acc,test_acc,seconds" with a header line.
bool plot_curves(const std::string& csv, const std::string& png, const std::string& title);
// roc.tsv: "far tar" lines.
bool plot_roc(const std::string& tsv, const std::string& png, const std::string& title);

}  // namespace example
