// The emulated CUDA runtime's streams (capture included) and events. Work runs when enqueued, so an
// event is complete as soon as it is recorded, unless it was recorded into a capture.
#include <chrono>
#include <string>

#include "runtime_state.h"

using namespace inkling::emu::cuda::detail;

cudaError_t cudaStreamCreate(cudaStream_t* stream) { return cudaStreamCreateWithFlags(stream, cudaStreamDefault); }
cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned flags) {
  auto* s = new CUstream_st();
  s->flags = flags;
  std::lock_guard<std::mutex> lock(rt().mu);
  rt().streams.insert(s);
  *stream = s;
  return cudaSuccess;
}
cudaError_t cudaStreamDestroy(cudaStream_t stream) {
  std::lock_guard<std::mutex> lock(rt().mu);
  if (!rt().streams.erase(stream)) return reportError(cudaErrorInvalidResourceHandle, "inkling emulator: cudaStreamDestroy of an unknown stream");
  delete stream;
  return cudaSuccess;
}
cudaError_t cudaStreamSynchronize(cudaStream_t stream) {
  std::lock_guard<std::mutex> lock(rt().mu);
  CUstream_st* s = streamOf(stream);
  if (s->capturing) return captureViolation(s, "cudaStreamSynchronize");
  return cudaSuccess;
}
cudaError_t cudaStreamQuery(cudaStream_t stream) {
  std::lock_guard<std::mutex> lock(rt().mu);
  CUstream_st* s = streamOf(stream);
  if (s->capturing) return captureViolation(s, "cudaStreamQuery");
  return cudaSuccess;
}
cudaError_t cudaStreamBeginCapture(cudaStream_t stream, cudaStreamCaptureMode mode) {
  std::lock_guard<std::mutex> lock(rt().mu);
  if (!stream) return reportError(cudaErrorStreamCaptureUnsupported, "inkling emulator: the legacy default stream cannot be captured");
  if (stream->capturing) return reportError(cudaErrorIllegalState, "inkling emulator: cudaStreamBeginCapture on a stream that is already capturing");
  stream->capturing = true;
  stream->mode = mode;
  stream->invalidated.clear();
  stream->nodes.clear();
  return cudaSuccess;
}
cudaError_t cudaStreamEndCapture(cudaStream_t stream, cudaGraph_t* graph) {
  std::lock_guard<std::mutex> lock(rt().mu);
  *graph = nullptr;
  if (!stream || !stream->capturing) return reportError(cudaErrorIllegalState, "inkling emulator: cudaStreamEndCapture on a stream that is not capturing");
  stream->capturing = false;
  if (!stream->invalidated.empty()) {
    stream->nodes.clear();
    return reportError(cudaErrorStreamCaptureInvalidated, "inkling emulator: the capture was invalidated by " + stream->invalidated);
  }
  auto* g = new CUgraph_st();
  g->nodes = std::move(stream->nodes);
  stream->nodes.clear();
  rt().graphs.insert(g);
  *graph = g;
  return cudaSuccess;
}
cudaError_t cudaStreamIsCapturing(cudaStream_t stream, cudaStreamCaptureStatus* status) {
  CUstream_st* s = streamOf(stream);
  *status = !s->capturing ? cudaStreamCaptureStatusNone : s->invalidated.empty() ? cudaStreamCaptureStatusActive : cudaStreamCaptureStatusInvalidated;
  return cudaSuccess;
}

cudaError_t cudaEventCreate(cudaEvent_t* event) { return cudaEventCreateWithFlags(event, cudaEventDefault); }
cudaError_t cudaEventCreateWithFlags(cudaEvent_t* event, unsigned flags) {
  auto* e = new CUevent_st();
  e->flags = flags;
  std::lock_guard<std::mutex> lock(rt().mu);
  rt().events.insert(e);
  *event = e;
  return cudaSuccess;
}
cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream) {
  std::lock_guard<std::mutex> lock(rt().mu);
  if (!rt().events.count(event)) return reportError(cudaErrorInvalidResourceHandle, "inkling emulator: cudaEventRecord of an unknown event");
  CUstream_st* s = streamOf(stream);
  if (s->capturing) {
    event->inCapture = true;
    s->nodes.push_back(Node{Node::Kind::EventRecord, {}, {}, {}, nullptr, nullptr, 0, cudaMemcpyDefault, 0, event});
    return cudaSuccess;
  }
  event->recorded = true;
  event->inCapture = false;
  event->when = std::chrono::steady_clock::now();
  return cudaSuccess;
}
cudaError_t cudaEventQuery(cudaEvent_t event) {
  std::lock_guard<std::mutex> lock(rt().mu);
  if (!rt().events.count(event)) return reportError(cudaErrorInvalidResourceHandle, "inkling emulator: cudaEventQuery of an unknown event");
  if (event->inCapture) return captureViolation(nullptr, "cudaEventQuery of an event recorded in a capture");
  return cudaSuccess;  // all enqueued work has already run
}
cudaError_t cudaEventSynchronize(cudaEvent_t event) {
  std::lock_guard<std::mutex> lock(rt().mu);
  if (!rt().events.count(event)) return reportError(cudaErrorInvalidResourceHandle, "inkling emulator: cudaEventSynchronize of an unknown event");
  if (event->inCapture) return captureViolation(nullptr, "cudaEventSynchronize of an event recorded in a capture");
  return cudaSuccess;
}
cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end) {
  std::lock_guard<std::mutex> lock(rt().mu);
  if (!rt().events.count(start) || !rt().events.count(end)) return reportError(cudaErrorInvalidResourceHandle, "inkling emulator: cudaEventElapsedTime of an unknown event");
  if ((start->flags | end->flags) & cudaEventDisableTiming) return reportError(cudaErrorInvalidResourceHandle, "inkling emulator: cudaEventElapsedTime of an event created with cudaEventDisableTiming");
  if (!start->recorded || !end->recorded) return reportError(cudaErrorInvalidResourceHandle, "inkling emulator: cudaEventElapsedTime of an event never recorded");
  *ms = std::chrono::duration<float, std::milli>(end->when - start->when).count();
  return cudaSuccess;
}
cudaError_t cudaEventDestroy(cudaEvent_t event) {
  std::lock_guard<std::mutex> lock(rt().mu);
  if (!rt().events.erase(event)) return reportError(cudaErrorInvalidResourceHandle, "inkling emulator: cudaEventDestroy of an unknown event");
  delete event;
  return cudaSuccess;
}
