// GC recorder: V8 GC prologue/epilogue callbacks that copy per-GC figures into a fixed-size ring.
//
// Why this shape: the callbacks run inside the GC pause on the isolate's own thread. They must not
// allocate on the JS heap, call into JS, take locks or grow memory, so everything they touch is
// allocated once in Start(). JS drains the ring on the same thread (from the agent's timer), which is
// why the ring needs no atomics: the GC callbacks and Drain() never run at the same time. The ring
// and the phase pairing live in gc_ring.h, free of V8, where native/test/unit_tests.cc tests them.
#ifndef LEAK_AGENT_GC_RECORDER_H_
#define LEAK_AGENT_GC_RECORDER_H_

#include <v8.h>

#include "gc_ring.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace leak_agent {

// Longest reuse of the external-memory figure between reads for GCs other than full GCs: one
// drain interval (the agent looks at the records once a second anyway). At 100 ms it was still read
// on nearly every GC of a 70 MB heap (GCs every 50-100 ms), ~2.2 us each under load.
constexpr uint64_t kExternalRefreshNs = 1000ull * 1000 * 1000;

// Histogram of time per callback invocation while measuring: 100 ns buckets up to 50 us, the last
// bucket collects everything longer. Medians from it are robust to the odd preemption that makes a
// mean meaningless on a shared machine.
constexpr size_t kHistBuckets = 500;
constexpr uint64_t kHistBucketNs = 100;

struct RecorderCounters {
  uint64_t recorded = 0;  // records written into the ring
  uint64_t dropped = 0;   // records lost because the ring was full
  uint64_t callbacks = 0; // prologue + epilogue invocations while measuring
  uint64_t callback_ns = 0;  // time spent inside our callbacks while measuring
  uint64_t spaces_ns = 0;    // ...of which reading per-space statistics
  uint64_t external_ns = 0;  // ...of which reading HeapStatistics for external memory
  uint32_t prologue_hist[kHistBuckets] = {};
  uint32_t epilogue_hist[kHistBuckets] = {};
};

class GcRecorder {
 public:
  explicit GcRecorder(v8::Isolate* isolate);
  ~GcRecorder();
  GcRecorder(const GcRecorder&) = delete;
  GcRecorder& operator=(const GcRecorder&) = delete;

  // Allocates the ring and installs the callbacks. Returns false if already running.
  bool Start(size_t capacity, bool measure);
  // Removes the callbacks; records still in the ring stay drainable. Idempotent.
  void Stop();
  bool running() const { return running_; }

  // Space names as V8 reports them, read once at construction.
  const std::vector<std::string>& space_names() const { return space_names_; }
  // Values per record in the flat drain layout: kind, start ms, duration ms, external, has_before,
  // then (used, committed) per space after, then (used, committed) per space before.
  size_t Stride() const { return DrainStride(space_count_); }
  size_t SpaceCount() const { return space_count_; }
  size_t Pending() const { return ring_.Pending(); }
  // Copies up to max_records oldest records into out (Stride() doubles each) and frees their slots.
  size_t Drain(double* out, size_t max_records);
  RecorderCounters counters() const { return counters_; }

 private:
  static void Prologue(v8::Isolate* isolate, v8::GCType type, v8::GCCallbackFlags flags, void* data);
  static void Epilogue(v8::Isolate* isolate, v8::GCType type, v8::GCCallbackFlags flags, void* data);
  void OnPrologue(v8::GCType type);
  void OnEpilogue(v8::GCType type);
  void ReadSpaces(SpaceFigures* out);

  v8::Isolate* isolate_;
  std::vector<std::string> space_names_;
  size_t space_count_ = 0;
  bool running_ = false;
  bool measure_ = false;

  GcRing ring_;
  PhaseStack open_;
  RecorderCounters counters_;
  double external_ = 0;
  uint64_t external_read_ns_ = 0;
};

}  // namespace leak_agent

#endif  // LEAK_AGENT_GC_RECORDER_H_
