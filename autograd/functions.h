#pragma once
// The differentiable API: what a user calls. Each function runs the core op and, when an input
// requires grad, records its backward. Gradients of broadcast inputs are summed back to the
// input's shape.
#include <array>
#include <cstdint>

#include "core/tensor.h"

namespace facet {

// ---- elementwise ----
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor pow(const Tensor& a, const Tensor& b);
Tensor pow(const Tensor& x, double exponent);
Tensor neg(const Tensor& x);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor abs(const Tensor& x);
Tensor relu(const Tensor& x);
// relu(a + b) as one op (a residual block's tail): one pass forward, one backward.
Tensor add_relu(const Tensor& a, const Tensor& b);
Tensor sigmoid(const Tensor& x);
Tensor tanh(const Tensor& x);
// The gradient flows where lo <= x <= hi, as in PyTorch.
Tensor clamp(const Tensor& x, double lo, double hi);
Tensor clamp_min(const Tensor& x, double lo);
Tensor clamp_max(const Tensor& x, double hi);
// cond != 0 picks a, else b; no gradient flows to cond.
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);

// Comparisons give 1 or 0 in the operands' dtype and carry no gradient.
Tensor eq(const Tensor& a, const Tensor& b);
Tensor ne(const Tensor& a, const Tensor& b);
Tensor lt(const Tensor& a, const Tensor& b);
Tensor le(const Tensor& a, const Tensor& b);
Tensor gt(const Tensor& a, const Tensor& b);
Tensor ge(const Tensor& a, const Tensor& b);

Tensor operator+(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a, const Tensor& b);
Tensor operator*(const Tensor& a, const Tensor& b);
Tensor operator/(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& x);
Tensor operator+(const Tensor& a, double b);
Tensor operator-(const Tensor& a, double b);
Tensor operator*(const Tensor& a, double b);
Tensor operator/(const Tensor& a, double b);
Tensor operator+(double a, const Tensor& b);
Tensor operator-(double a, const Tensor& b);
Tensor operator*(double a, const Tensor& b);
Tensor operator/(double a, const Tensor& b);

// ---- reductions ----
Tensor sum(const Tensor& x);
Tensor sum(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor mean(const Tensor& x);
Tensor mean(const Tensor& x, int64_t dim, bool keepdim = false);
// The gradient of max goes to the first maximal element.
Tensor max(const Tensor& x);
Tensor max(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor argmax(const Tensor& x);
Tensor argmax(const Tensor& x, int64_t dim, bool keepdim = false);

// ---- linear algebra ----
Tensor matmul(const Tensor& a, const Tensor& b);
// x @ weight^T + bias, weight [out, in] as torch.nn.functional.linear; bias may be undefined.
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor());

// ---- normalization along a dim ----
Tensor softmax(const Tensor& x, int64_t dim);
Tensor log_softmax(const Tensor& x, int64_t dim);
// x / max(||x||_2, eps) along dim, as torch.nn.functional.normalize(x, 2, dim, eps).
Tensor normalize(const Tensor& x, int64_t dim = 1, double eps = 1e-12);

// ---- indexing ----
Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index);
Tensor index_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& source);
Tensor gather(const Tensor& x, int64_t dim, const Tensor& index);
Tensor scatter_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src);
Tensor one_hot(const Tensor& labels, int64_t num_classes, DType dtype = kFloat32);

// ---- convolution and pooling (NCHW), as torch.nn.functional ----
using Pair2 = std::array<int64_t, 2>;
// weight [out_channels, in_channels, KH, KW]; bias [out_channels] or undefined.
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor(), Pair2 stride = {1, 1},
              Pair2 padding = {0, 0}, Pair2 dilation = {1, 1});
// stride {0, 0} means "the kernel size", PyTorch's default.
Tensor max_pool2d(const Tensor& x, Pair2 kernel, Pair2 stride = {0, 0}, Pair2 padding = {0, 0}, Pair2 dilation = {1, 1});
Tensor avg_pool2d(const Tensor& x, Pair2 kernel, Pair2 stride = {0, 0}, Pair2 padding = {0, 0});

// Training-mode batch normalization over dim 1 of x [N, C, ...] with the batch's own statistics
// (weight and bias may be undefined); the batch mean and biased variance come back through the
// pointers when given (for the running statistics).
Tensor batch_norm_train(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps,
                        Tensor* batch_mean = nullptr, Tensor* batch_var = nullptr);
// The same followed by PReLU with `slope` ([C] or [1]), fused: one node, and the backward never
// stores the batchnorm output or its gradient (nn::Sequential takes it for BatchNorm then PReLU).
Tensor batch_norm_prelu_train(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& slope,
                              double eps, Tensor* batch_mean = nullptr, Tensor* batch_var = nullptr);

// ---- shape (views where the layout allows) ----
Tensor reshape(const Tensor& x, const Shape& shape);
Tensor flatten(const Tensor& x, int64_t start_dim = 0, int64_t end_dim = -1);
Tensor transpose(const Tensor& x, int64_t d0, int64_t d1);
Tensor permute(const Tensor& x, const Shape& dims);

}  // namespace facet
