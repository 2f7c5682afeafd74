// CUDA graphs: Graph::capture records what a body queues on a device's stream, Graph::replay
// launches it again with one call (cuda/runtime.h says what a replay keeps and what is refused).
// The capture runs in relaxed mode so that the allocator may still cudaMalloc a block the graph
// needs (the graph's private pool, core/block_cache.h); what must not happen inside a capture,
// a host wait, is refused by facet itself (refuse_in_capture) before CUDA would see it.
// Cost: a replay is one cudaGraphLaunch plus, when the body checked indices, one device copy of
// their verdicts, in place of one host call per kernel (a training step of the example queues a
// few hundred).
#include <atomic>
#include <mutex>
#include <string>

#include "cuda/check.h"
#include "cuda/context.h"
#include "cuda/graph.h"
#include "cuda/graph_hooks.h"
#include "cuda/runtime.h"

namespace facet::cuda {

namespace {

std::atomic<bool> capturing[kMaxDevices];
// Which devices a Graph::capture has claimed, from its first check to its end: two threads that
// capture one device at once must not both get past the check and undo each other's setup.
std::atomic<bool> claimed[kMaxDevices];

struct DeviceClaim {
  int device;
  explicit DeviceClaim(int d) : device(d) {
    bool free = false;
    FACET_CHECK(claimed[d].compare_exchange_strong(free, true), "cuda::Graph::capture",
                "no other capture on cuda:" + std::to_string(d), "one in progress");
  }
  ~DeviceClaim() { claimed[device] = false; }
  DeviceClaim(const DeviceClaim&) = delete;
  DeviceClaim& operator=(const DeviceClaim&) = delete;
};

}  // namespace

std::mutex& capture_start_mutex() {
  static std::mutex m;
  return m;
}

struct Graph::State {
  int device = -1;
  cudaGraph_t graph = nullptr;
  cudaGraphExec_t exec = nullptr;
  uint64_t pool = 0;
  GraphChecks checks;

  // Waits for the replays in flight, then gives everything back; no throw. Inside another
  // capture on the device none is in flight (a capture starts by waiting for the stream), and a
  // wait there would break that capture, so there is none.
  void release() noexcept {
    if (device < 0) return;
    int previous = 0;
    const bool have_previous = cudaGetDevice(&previous) == cudaSuccess;
    if (cudaSetDevice(device) == cudaSuccess && stream_ready(device) && !is_capturing(device)) {
      try {
        cudaStreamSynchronize(stream(device));
      } catch (...) {
      }
    }
    if (exec) cudaGraphExecDestroy(exec);
    if (graph) cudaGraphDestroy(graph);
    free_graph_checks(checks);
    if (pool) free_graph_pool(device, pool);
    if (have_previous) cudaSetDevice(previous);
    cudaGetLastError();  // nothing to report from here: clear it so no later check misreports it
    *this = State();
  }
};

bool is_capturing(int device) { return device >= 0 && device < kMaxDevices && capturing[device].load(); }

[[noreturn]] void refuse_in_capture(int device, const std::string& what) {
  throw Error("cuda graph capture",
              "no host wait while cuda:" + std::to_string(device) +
                  " is captured (copy inputs in before replay(), read outputs after it)",
              what);
}

Graph::Graph() : state_(std::make_unique<State>()) {}

Graph::~Graph() { state_->release(); }

bool Graph::captured() const { return state_->exec != nullptr; }

void Graph::capture(int device, const std::function<void()>& body) {
  check_device_index("cuda::Graph::capture", device);
  FACET_CHECK(!captured(), "cuda::Graph::capture", "a Graph not captured yet (make a new one to capture again)",
              "one already captured");
  const DeviceClaim claim(device);
  DeviceGuard guard(device);
  wait_for_stream(device);  // earlier work and its index checks settle outside the graph
  State& s = *state_;
  s.device = device;
  const auto stop = [&] {
    capturing[device] = false;
    end_graph_pool(device);
    end_graph_checks(device);
  };
  try {
    begin_graph_checks(device, &s.checks);
    s.pool = begin_graph_pool(device);
    {
      std::lock_guard<std::mutex> starting(capture_start_mutex());
      capturing[device] = true;
      FACET_CUDA_CHECK(cudaStreamBeginCapture(stream(device), cudaStreamCaptureModeRelaxed));
    }
    try {
      body();
    } catch (...) {
      cudaGraph_t partial = nullptr;  // ends the capture so the stream runs work again; dropped
      if (cudaStreamEndCapture(stream(device), &partial) == cudaSuccess && partial) cudaGraphDestroy(partial);
      cudaGetLastError();
      throw;
    }
    FACET_CUDA_CHECK(cudaStreamEndCapture(stream(device), &s.graph));
    stop();
    FACET_CUDA_CHECK(cudaGraphInstantiate(&s.exec, s.graph, 0));
  } catch (...) {
    stop();
    s.release();
    throw;
  }
}

void Graph::replay() {
  FACET_CHECK(captured(), "cuda::Graph::replay", "a captured graph", "a Graph with nothing captured");
  State& s = *state_;
  FACET_CHECK(!is_capturing(s.device), "cuda::Graph::replay",
              "no capture running on cuda:" + std::to_string(s.device) + " (a replay cannot be captured)",
              "a replay inside a capture");
  DeviceGuard guard(s.device);
  FACET_CUDA_CHECK(cudaGraphLaunch(s.exec, stream(s.device)));
  queue_graph_checks(s.device, s.checks);
}

}  // namespace facet::cuda
