// The GC recorder's storage, kept free of V8 so it can be unit-tested (and run under ASan and
// valgrind) as plain C++: the fixed-size ring of per-GC records, its drain into the flat layout
// JS reads, and the stack that pairs each GC epilogue with its prologue.
//
// Nothing here allocates after Reset(): the GC callbacks that write into it run inside the GC pause,
// where allocation is not allowed. The ring needs no atomics: the callbacks and Drain() run on the
// isolate's own thread and never at the same time.
#ifndef LEAK_AGENT_GC_RING_H_
#define LEAK_AGENT_GC_RING_H_

#include <cstddef>
#include <cstdint>
#include <vector>

namespace leak_agent {

// Upper bound of V8 heap spaces we keep per record. V8 has 9-13 depending on version; extra spaces
// beyond this bound are ignored, never written out of bounds.
constexpr size_t kMaxSpaces = 16;
// Nested GC phases open at once (incremental marking start inside a scavenge, weak callbacks inside
// a full GC). Deeper nesting is recorded with a zero duration rather than overflowing.
constexpr size_t kMaxPending = 8;

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
  uint64_t start_ns;  // uv_hrtime() clock (monotonic)
  uint64_t duration_ns;
  double external;
  SpaceFigures after[kMaxSpaces];
  SpaceFigures before[kMaxSpaces];
};

// Values per record in the flat drain layout: kind, start ms, duration ms, external, has_before,
// then (used, committed) per space after, then (used, committed) per space before.
constexpr size_t DrainStride(size_t space_count) { return 5 + 4 * space_count; }

class GcRing {
 public:
  // Sizes the ring (the only allocation) and empties it. capacity 0 is treated as 1.
  void Reset(size_t capacity);
  size_t capacity() const { return slots_.size(); }
  size_t Pending() const { return count_; }
  // The slot for the next record, or nullptr when the ring is full (the caller counts a drop).
  // Nothing is published until Commit().
  GcRecord* NextSlot();
  void Commit();
  // Copies up to max_records oldest records into out (DrainStride(space_count) doubles each) and
  // frees their slots. Returns how many were copied. space_count is clamped to kMaxSpaces.
  size_t Drain(double* out, size_t max_records, size_t space_count);

 private:
  std::vector<GcRecord> slots_;
  size_t head_ = 0;   // next slot to read
  size_t count_ = 0;  // records waiting
};

// The GC phases that have begun and not yet ended. Phases nest, they do not interleave; an
// epilogue closes the most recent open phase of its type and any unmatched phase opened after it.
class PhaseStack {
 public:
  struct Open {
    int type;
    uint64_t start_ns;
    bool has_before;
    SpaceFigures before[kMaxSpaces];
  };
  void Clear() { size_ = 0; }
  size_t size() const { return size_; }
  // A new phase to fill in, or nullptr when kMaxPending phases are already open.
  Open* Push(int type, uint64_t start_ns, bool has_before);
  // The most recent open phase of this type, or nullptr.
  Open* Find(int type);
  // Closes `open` (from Find) and everything opened after it.
  void CloseFrom(const Open* open);

 private:
  Open open_[kMaxPending];
  size_t size_ = 0;
};

}  // namespace leak_agent

#endif  // LEAK_AGENT_GC_RING_H_
