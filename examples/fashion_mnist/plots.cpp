#include "examples/fashion_mnist/plots.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>

namespace example {

namespace {

// Writes the script beside the picture and runs it.
bool run_gnuplot(const std::string& png, const std::string& script) {
  const std::string path = png + ".gp";
  {
    std::ofstream f(path, std::ios::trunc);
    f << "set terminal pngcairo size 900,700 font 'sans,11'\nset output '" << png << "'\n" << script;
  }
  const std::string command = "gnuplot '" + path + "' 2>&1";
  if (std::system("command -v gnuplot >/dev/null 2>&1") != 0) {
    std::fprintf(stderr, "note: gnuplot not found (apt-get install gnuplot-nox): %s not drawn\n", png.c_str());
    return false;
  }
  if (std::system(command.c_str()) != 0) {
    std::fprintf(stderr, "note: gnuplot failed on %s: %s not drawn\n", path.c_str(), png.c_str());
    return false;
  }
  return true;
}

}  // namespace

bool plot_features(const std::string& tsv, const std::string& png, const std::string& title, bool unit_circle) {
  std::string s = "set title '" + title + "'\nset size ratio -1\nset key outside right\nset xlabel 'feature 1'\n"
                  "set ylabel 'feature 2'\n";
  // On one circle the classes' points would hide each other; on rings of their own each class's
  // arc, and the angular gaps between classes, stay visible. The direction is the feature's.
  std::string x = "$1", y = "$2";
  if (unit_circle) {
    s += "set xrange [-1.2:1.2]\nset yrange [-1.2:1.2]\nring(c) = 0.55 + 0.05 * c\n";
    x = "$1 * ring(c)", y = "$2 * ring(c)";
  }
  s += "names = 'T-shirt Trouser Pullover Dress Coat Sandal Shirt Sneaker Bag Boot'\n"
       "colors = '#1f77b4 #ff7f0e #2ca02c #d62728 #9467bd #8c564b #e377c2 #7f7f7f #bcbd22 #17becf'\n"
       "plot for [c=0:9] '" + tsv + "' using ($3 == c ? " + x + " : 1/0):(" + y + ") with points pt 7 ps 0.3 \\\n"
       "  lc rgb word(colors, c + 1) title word(names, c + 1)\n";
  return run_gnuplot(png, s);
}

bool plot_curves(const std::string& csv, const std::string& png, const std::string& title) {
  const std::string s = "set title '" + title + "'\nset datafile separator ','\nset key autotitle columnhead\n"
                        "set xlabel 'epoch'\nset ylabel 'accuracy (%)'\nset y2label 'training loss'\nset y2tics\n"
                        "set ytics nomirror\nset grid\n"
                        "plot '" + csv + "' using 1:($3*100) with linespoints title 'train accuracy', \\\n"
                        "     '' using 1:($4*100) with linespoints title 'test accuracy', \\\n"
                        "     '' using 1:2 axes x1y2 with linespoints title 'training loss'\n";
  return run_gnuplot(png, s);
}

bool plot_roc(const std::string& tsv, const std::string& png, const std::string& title) {
  const std::string s = "set title '" + title + "'\nset logscale x\nset xrange [1e-4:1]\nset yrange [0:1.01]\n"
                        "set xlabel 'false accept rate'\nset ylabel 'true accept rate'\nset grid\nset key bottom right\n"
                        "plot '" + tsv + "' using ($1 > 0 ? $1 : 1/0):2 with lines lw 2 title 'ROC'\n";
  return run_gnuplot(png, s);
}

}  // namespace example
