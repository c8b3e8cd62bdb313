// GC recorder: V8 GC prologue/epilogue callbacks that copy per-GC figures into a fixed-size ring.
//
// Why this shape: the callbacks run inside the GC pause on the isolate's own thread. They must not
// allocate on the JS heap, call into JS, take locks or grow memory, so everything they touch is
// allocated once in Start(). JS drains the ring on the same thread (from the agent's timer), which is
// why the ring needs no atomics: the GC callbacks and Drain() never run at the same time.
#ifndef LEAK_AGENT_GC_RECORDER_H_
#define LEAK_AGENT_GC_RECORDER_H_

#include <v8.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace leak_agent {

// Upper bound of V8 heap spaces we keep per record. V8 has 9-11 depending on version; extra spaces
// beyond this bound are ignored (and reported by SpaceCount()), never written out of bounds.
constexpr size_t kMaxSpaces = 16;
// Nested GC phases open at once (incremental marking start inside a scavenge, weak callbacks inside
// a full GC). Deeper nesting is recorded with a zero duration rather than overflowing.
constexpr size_t kMaxPending = 8;
// Longest reuse of the external-memory figure between reads for GCs other than full GCs: one
// drain interval (the agent looks at the records once a second anyway). At 100 ms it was still read
// on nearly every GC of a 70 MB heap (GCs every 50-100 ms), ~2.2 us each under load.
constexpr uint64_t kExternalRefreshNs = 1000ull * 1000 * 1000;

// Our own numbering of GC kinds, shared with src/sampler/native-sampler.ts.
enum class GcKind : uint8_t {
  kScavenge = 0,
  kMinorMarkSweep = 1,
  kMarkSweepCompact = 2,
  kIncrementalMarking = 3,
  kWeakCallbacks = 4,
};

struct SpaceFigures {
  double used;
  double committed;
};

struct GcRecord {
  GcKind kind;
  bool has_before;
  uint64_t start_ns;     // uv_hrtime() clock (monotonic)
  uint64_t duration_ns;
  double external;
  SpaceFigures after[kMaxSpaces];
  SpaceFigures before[kMaxSpaces];
};

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
  size_t Stride() const { return 5 + 4 * space_count_; }
  size_t SpaceCount() const { return space_count_; }
  size_t Pending() const { return count_; }
  // Copies up to max_records oldest records into out (Stride() doubles each) and frees their slots.
  size_t Drain(double* out, size_t max_records);
  RecorderCounters counters() const { return counters_; }

 private:
  struct Open {
    v8::GCType type;
    uint64_t start_ns;
    bool has_before;
    SpaceFigures before[kMaxSpaces];
  };

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

  std::vector<GcRecord> ring_;
  size_t head_ = 0;   // next slot to read
  size_t count_ = 0;  // records waiting in the ring
  Open open_[kMaxPending];
  size_t open_count_ = 0;
  RecorderCounters counters_;
  double external_ = 0;
  uint64_t external_read_ns_ = 0;
};

}  // namespace leak_agent

#endif  // LEAK_AGENT_GC_RECORDER_H_
