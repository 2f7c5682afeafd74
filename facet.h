#pragma once
// The umbrella header: everything a model needs. The fine-grained headers stay available.
#include "autograd/functions.h"
#include "autograd/grad_mode.h"
#include "autograd/gradcheck.h"
#include "core/device.h"
#include "core/dtype.h"
#include "core/error.h"
#include "core/factory.h"
#include "core/generator.h"
#include "core/tensor.h"
#include "cuda/runtime.h"
#include "layers/activation.h"
#include "layers/checkpoint.h"
#include "layers/flatten.h"
#include "layers/init.h"
#include "layers/linear.h"
#include "layers/module.h"
#include "layers/sequential.h"  // facet::cuda:: memory statistics, synchronize, the TF32 switch
