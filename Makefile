# facet — build, test and benchmark.
#
#   make            the static library and the test binary (CUDA sources too when nvcc is found)
#   make test       installs missing Debian packages, builds, runs every test
#   make bench      CPU benchmarks
#   make demo       trains the bundled demo
#   make deps       installs the Debian packages the build needs
#   make gpu-check  on a machine with a GPU: build for sm_90, every test, compute-sanitizer, benchmarks
#   make gpu-accuracy  on a machine with a GPU: every head's ResNet run beside PyTorch's, one table
#   make pictures   the 2-D feature pictures (every head on the cnn, three on LeNet++), into docs/
#
# Knobs: CUDA=0 (build without CUDA even where nvcc exists), CUDA_ARCH=sm_90, SANITIZE=1
# (ASan + UBSan, in a build directory of its own), USE_CUDNN=1 (link cuDNN for the cudnn convolution
# algorithm; needs cudnn.h), BUILD=dir, JOBS=n (parallel compiles in test/bench).

CXX      ?= g++
CUDA_ARCH ?= sm_90
SANITIZE ?= 0
USE_CUDNN ?= 0
JOBS     ?= $(shell nproc 2>/dev/null || echo 2)

# ---- detection (each probe runs the tool itself, so a wrong answer shows in `make info`) ----
NVCC := $(or $(shell command -v nvcc 2>/dev/null),$(wildcard /usr/local/cuda/bin/nvcc))
ifeq ($(NVCC),)
  CUDA ?= 0
else
  CUDA ?= 1
endif
ifeq ($(CUDA),1)
  ifeq ($(NVCC),)
    $(error CUDA=1 but nvcc was not found on PATH or in /usr/local/cuda/bin)
  endif
  CUDA_HOME := $(patsubst %/bin/,%,$(dir $(realpath $(NVCC))))
  CUDA_VERSION := $(shell $(NVCC) --version 2>/dev/null | sed -n 's/.*release \([0-9.]*\).*/\1/p')
  # CUDNN_HOME=dir: cuDNN outside the toolkit (dir/include/cudnn.h, dir/lib/libcudnn.so).
  CUDNN := $(if $(wildcard $(if $(CUDNN_HOME),$(CUDNN_HOME)/include/cudnn.h) $(CUDA_HOME)/include/cudnn.h \
             /usr/include/cudnn.h /usr/include/x86_64-linux-gnu/cudnn.h),1,0)
else
  CUDNN := 0
endif
ifeq ($(USE_CUDNN),1)
  ifneq ($(CUDA),1)
    $(error USE_CUDNN=1 needs a CUDA build (nvcc found, CUDA not 0))
  endif
  ifneq ($(CUDNN),1)
    $(error USE_CUDNN=1 but cudnn.h was not found under $(CUDA_HOME)/include, /usr/include or CUDNN_HOME)
  endif
endif
DOCTEST := $(shell printf '\043include <doctest/doctest.h>\n' | $(CXX) -x c++ -fsyntax-only - >/dev/null 2>&1 && echo 1 || echo 0)
OPENBLAS := $(shell printf '\043include <cblas.h>\nint main(){return openblas_get_num_threads() > 0 ? 0 : 1;}\n' \
              | $(CXX) -x c++ - -lopenblas -o /dev/null >/dev/null 2>&1 && echo 1 || echo 0)

# The Python that imports torch (Debian's python3-torch lives under /usr/bin/python3), for bench;
# "=" so that only the bench recipe pays for importing torch, not every make.
PYTHON_TORCH = $(or $(shell for p in python3 /usr/bin/python3; do $$p -c 'import torch' >/dev/null 2>&1 && echo $$p && break; done),python3)

comma := ,

# ---- flags ----
# Each configuration builds in a folder of its own, so switching never mixes stale objects.
ifeq ($(SANITIZE),1)
  BUILD ?= build/sanitize$(if $(filter 0,$(CUDA)),-cpu)$(if $(filter 1,$(USE_CUDNN)),-cudnn)
  SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
else
  BUILD ?= build/release$(if $(filter 0,$(CUDA)),-cpu)$(if $(filter 1,$(USE_CUDNN)),-cudnn)
  SAN_FLAGS :=
endif
# -ffp-contract=off: the host never fuses a * b + c, so shared per-element math rounds as written.
# -O3 -fno-trapping-math: loops with a choice (PReLU, ReLU's gradient, max-pooling) become vector
# selects; with traps honoured GCC keeps them scalar and branchy (PReLU ran 10x slower than a copy).
# Neither reorders float arithmetic, so results are unchanged.
CXXFLAGS := -std=c++20 -O3 -fno-trapping-math -g -Wall -Wextra -fopenmp -ffp-contract=off -I. -DFACET_WITH_CUDA=$(CUDA) $(SAN_FLAGS) -MMD -MP \
            $(if $(filter 1,$(CUDA)),-isystem $(CUDA_HOME)/include)
LDFLAGS  := -fopenmp $(SAN_FLAGS)
LDLIBS   := -lopenblas -lz -lm
NVCCFLAGS := -std=c++20 -O2 -arch=$(CUDA_ARCH) -I. -DFACET_WITH_CUDA=1 -Xcompiler -Wall,-Wextra -MMD -MP
ifeq ($(CUDA),1)
  LDFLAGS += -L$(CUDA_HOME)/lib64 -Wl,-rpath,$(CUDA_HOME)/lib64
  LDLIBS  += -lcublas -lcudart
endif
ifeq ($(USE_CUDNN),1)
  CXXFLAGS  += -DFACET_WITH_CUDNN=1 $(if $(CUDNN_HOME),-isystem $(CUDNN_HOME)/include)
  NVCCFLAGS += -DFACET_WITH_CUDNN=1 $(if $(CUDNN_HOME),-I$(CUDNN_HOME)/include)
  LDFLAGS   += $(if $(CUDNN_HOME),-L$(CUDNN_HOME)/lib -Wl$(comma)-rpath$(comma)$(CUDNN_HOME)/lib)
  LDLIBS    += -lcudnn
endif

# ---- sources ----
LIB_DIRS := core cpu autograd layers losses optim data
LIB_SRCS := $(foreach d,$(LIB_DIRS),$(wildcard $(d)/*.cpp))
# A build without CUDA links cuda/unavailable.cpp instead: no devices, and clear errors.
CUDA_SRCS := $(if $(filter 1,$(CUDA)),$(wildcard cuda/*.cu))
LIB_SRCS  += $(if $(filter 1,$(CUDA)),,cuda/unavailable.cpp)
TEST_SRCS := $(wildcard tests/*.cpp)
# bench/cuda_*.cpp time GPU kernels against cuBLAS and the copy bandwidth: CUDA builds only.
BENCH_SRCS := $(filter-out $(if $(filter 1,$(CUDA)),,bench/cuda_%.cpp),$(wildcard bench/*.cpp))

# The examples: examples/fashion_mnist/*.cpp other than the programs are shared by train and verify.
EXAMPLE_SRCS := $(filter-out examples/fashion_mnist/train.cpp,$(wildcard examples/fashion_mnist/*.cpp))
EXAMPLE_OBJS := $(EXAMPLE_SRCS:%.cpp=$(BUILD)/obj/%.o)
EXAMPLE_BINS := $(BUILD)/examples/train $(BUILD)/examples/verify

LIB_OBJS  := $(LIB_SRCS:%.cpp=$(BUILD)/obj/%.o) $(CUDA_SRCS:%.cu=$(BUILD)/obj/%.cu.o)
TEST_OBJS := $(TEST_SRCS:%.cpp=$(BUILD)/obj/%.o)
LIB       := $(BUILD)/libfacet.a
TEST_BIN  := $(BUILD)/facet_tests
BENCH_BINS := $(BENCH_SRCS:bench/%.cpp=$(BUILD)/bench/%)

.PHONY: all examples test bench demo deps info clean gpu-check gpu-accuracy check-resume pictures
all: info $(LIB) $(TEST_BIN) $(EXAMPLE_BINS)
examples: info $(EXAMPLE_BINS)

info:
	@echo "facet: nvcc=$(if $(filter 1,$(CUDA)),$(NVCC) (CUDA $(CUDA_VERSION), $(CUDA_ARCH)),$(if $(NVCC),found but off (CUDA=0),not found)) cudnn=$(CUDNN) use_cudnn=$(USE_CUDNN) openblas=$(OPENBLAS) doctest=$(DOCTEST) sanitize=$(SANITIZE) build=$(BUILD)"
	@if [ "$(OPENBLAS)" != 1 ]; then echo "facet: OpenBLAS (cblas.h, -lopenblas) not found: run 'make deps'"; exit 1; fi
	@if [ "$(DOCTEST)" != 1 ]; then echo "facet: doctest (doctest/doctest.h) not found: run 'make deps'"; exit 1; fi

$(LIB): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

# The tests link the example's shared sources too (tests/test_example_heads.cpp).
$(TEST_BIN): $(TEST_OBJS) $(EXAMPLE_OBJS) $(LIB)
	$(CXX) $(LDFLAGS) -o $@ $(TEST_OBJS) $(EXAMPLE_OBJS) $(LIB) $(LDLIBS)

$(BUILD)/examples/train: $(BUILD)/obj/examples/fashion_mnist/train.o $(EXAMPLE_OBJS) $(LIB)
	@mkdir -p $(dir $@)
	$(CXX) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/examples/verify: $(BUILD)/obj/examples/verify/verify.o $(EXAMPLE_OBJS) $(LIB)
	@mkdir -p $(dir $@)
	$(CXX) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The training-step benchmark times the example's own models and heads.
$(BUILD)/bench/train_step: bench/train_step.cpp $(EXAMPLE_OBJS) $(LIB)
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) $(LDFLAGS) -o $@ $< $(EXAMPLE_OBJS) $(LIB) $(LDLIBS)

$(BUILD)/bench/%: bench/%.cpp $(LIB)
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

$(BUILD)/obj/%.o: %.cpp
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) -c $< -o $@

$(BUILD)/obj/%.cu.o: %.cu
	@mkdir -p $(dir $@)
	$(NVCC) $(NVCCFLAGS) -c $< -o $@

# A fresh machine: packages first, then a build that sees them (a second make run re-detects).
test:
	@$(MAKE) --no-print-directory deps
	@$(MAKE) --no-print-directory -j$(JOBS) all
	@$(TEST_BIN)

bench:
	@$(MAKE) --no-print-directory deps
	@$(MAKE) --no-print-directory -j$(JOBS) info $(BENCH_BINS)
	@for b in $(filter-out %/conv_layers %/loss_heads %/train_step,$(BENCH_BINS)); do echo "== $$b"; $$b || exit 1; done
	@echo "== a training step of the example, every head, beside PyTorch (bench/torch_ref.py train_step)"
	@$(PYTHON_TORCH) bench/torch_ref.py train_step $(BUILD)/bench/train_step cpu
	@echo "== conv2d and batchnorm beside PyTorch (bench/torch_ref.py)"
	@$(PYTHON_TORCH) bench/torch_ref.py $(BUILD)/bench/conv_layers
	@echo "== the ArcFace head beside PyTorch running the reference code (bench/torch_ref.py heads)"
	@$(PYTHON_TORCH) bench/torch_ref.py heads $(BUILD)/bench/loss_heads cpu

# The demo: a small CNN with softmax + Center loss and 2-D features, two epochs over a third of
# Fashion-MNIST (about a minute of training on two CPU cores), then its verification metrics; the
# pictures (features, curves, ROC) land in runs/demo.
DEMO_FLAGS ?= --model cnn --head center --feat-dim 2 --epochs 2 --limit 20000
demo:
	@$(MAKE) --no-print-directory deps
	@$(MAKE) --no-print-directory -j$(JOBS) examples
	@$(BUILD)/examples/train $(DEMO_FLAGS) --out runs/demo
	@$(BUILD)/examples/verify --run runs/demo

deps:
	@tools/deps.sh

# --resume continues bit for bit on the CPU (two short runs; a few minutes on two cores).
check-resume: examples
	@tools/check_resume.sh $(BUILD)

# The 2-D feature pictures into docs/: every head on the cnn (seven short runs; about ten minutes
# on two cores), then softmax, center and sphereface on LeNet++ (three runs of about 20 minutes
# each on one core).
pictures: examples
	@MODEL=cnn tools/feature_pictures.sh $(BUILD)
	@MODEL=lenetpp tools/feature_pictures.sh $(BUILD)

gpu-check:
	@tools/gpu_check.sh

# On a GPU machine: every head's ResNet accuracy row, facet and PyTorch side by side on the GPU.
gpu-accuracy:
	@tools/gpu_accuracy.sh

clean:
	rm -rf build

-include $(LIB_OBJS:.o=.d) $(TEST_OBJS:.o=.d) $(BENCH_BINS:=.d) $(EXAMPLE_OBJS:.o=.d) \
  $(BUILD)/obj/examples/fashion_mnist/train.d $(BUILD)/obj/examples/verify/verify.d
