#include "gc_recorder.h"

#include <uv.h>

namespace leak_agent {

namespace {

// V8 renamed kGCTypeMinorMarkCompact to kGCTypeMinorMarkSweep across the Node versions we build for
// (20: MinorMarkCompact, 22: both, 24: MinorMarkSweep). The bit value is the same, so use it.
constexpr int kMinorBit = 1 << 1;

void Count(uint32_t* hist, uint64_t ns) {
  const uint64_t b = ns / kHistBucketNs;
  hist[b < kHistBuckets ? b : kHistBuckets - 1] += 1;
}

GcKind KindOf(v8::GCType type) {
  const int t = static_cast<int>(type);
  if (t & v8::kGCTypeScavenge) return GcKind::kScavenge;
  if (t & kMinorBit) return GcKind::kMinorMarkSweep;
  if (t & v8::kGCTypeMarkSweepCompact) return GcKind::kMarkSweepCompact;
  if (t & v8::kGCTypeIncrementalMarking) return GcKind::kIncrementalMarking;
  return GcKind::kWeakCallbacks;
}

}  // namespace

GcRecorder::GcRecorder(v8::Isolate* isolate) : isolate_(isolate) {
  // Names come from V8 itself: they differ between versions, so none is hard-coded.
  const size_t n = isolate_->NumberOfHeapSpaces();
  space_count_ = n < kMaxSpaces ? n : kMaxSpaces;
  space_names_.reserve(space_count_);
  for (size_t i = 0; i < space_count_; ++i) {
    v8::HeapSpaceStatistics s;
    isolate_->GetHeapSpaceStatistics(&s, i);
    space_names_.emplace_back(s.space_name() ? s.space_name() : "");
  }
}

GcRecorder::~GcRecorder() { Stop(); }

bool GcRecorder::Start(size_t capacity, bool measure) {
  if (running_) return false;
  // The ring is sized once here; the callbacks never allocate.
  ring_.Reset(capacity);
  open_.Clear();
  measure_ = measure;
  counters_ = RecorderCounters{};
  isolate_->AddGCPrologueCallback(Prologue, this, v8::kGCTypeAll);
  isolate_->AddGCEpilogueCallback(Epilogue, this, v8::kGCTypeAll);
  running_ = true;
  return true;
}

void GcRecorder::Stop() {
  if (!running_) return;
  isolate_->RemoveGCPrologueCallback(Prologue, this);
  isolate_->RemoveGCEpilogueCallback(Epilogue, this);
  running_ = false;
}

void GcRecorder::Prologue(v8::Isolate*, v8::GCType type, v8::GCCallbackFlags, void* data) {
  static_cast<GcRecorder*>(data)->OnPrologue(type);
}

void GcRecorder::Epilogue(v8::Isolate*, v8::GCType type, v8::GCCallbackFlags, void* data) {
  static_cast<GcRecorder*>(data)->OnEpilogue(type);
}

void GcRecorder::ReadSpaces(SpaceFigures* out) {
  const uint64_t t0 = measure_ ? uv_hrtime() : 0;
  for (size_t i = 0; i < space_count_; ++i) {
    v8::HeapSpaceStatistics s;
    isolate_->GetHeapSpaceStatistics(&s, i);
    out[i].used = static_cast<double>(s.space_used_size());
    out[i].committed = static_cast<double>(s.space_size());
  }
  if (measure_) counters_.spaces_ns += uv_hrtime() - t0;
}

void GcRecorder::OnPrologue(v8::GCType type) {
  const uint64_t now = uv_hrtime();
  // "Before" figures only for full GCs: they are what the detector compares, and reading every
  // space twice per scavenge would double the cost of the most frequent callback.
  const bool full = KindOf(type) == GcKind::kMarkSweepCompact;
  PhaseStack::Open* o = open_.Push(static_cast<int>(type), now, full);
  if (o != nullptr && full) ReadSpaces(o->before);
  if (measure_) {
    const uint64_t spent = uv_hrtime() - now;
    counters_.callbacks += 1;
    counters_.callback_ns += spent;
    Count(counters_.prologue_hist, spent);
  }
}

void GcRecorder::OnEpilogue(v8::GCType type) {
  const uint64_t now = uv_hrtime();
  // Match the most recent open phase of the same type (phases nest, they do not interleave).
  const PhaseStack::Open* open = open_.Find(static_cast<int>(type));
  GcRecord* slot = ring_.NextSlot();
  if (slot == nullptr) {
    counters_.dropped += 1;
  } else {
    GcRecord& r = *slot;
    r.kind = KindOf(type);
    r.start_ns = open ? open->start_ns : now;
    r.duration_ns = open ? now - open->start_ns : 0;
    r.has_before = open != nullptr && open->has_before;
    if (r.has_before) {
      for (size_t i = 0; i < space_count_; ++i) r.before[i] = open->before[i];
    }
    ReadSpaces(r.after);
    // HeapStatistics::external_memory() is the figure Node reports (v8.getHeapStatistics()
    // .external_memory, GCProfiler's externalMemory): it includes ArrayBuffer backing stores, which
    // AdjustAmountOfExternalAllocatedMemory(0) does not (measured: 10 KB vs 1.4 MB on Node 20). But
    // GetHeapStatistics walks every space and the native-context list: ~1.4 us, twice the cost of
    // the rest of a scavenge's callbacks. So it is read on every full GC (the records the detector
    // trends) and otherwise at most every kExternalRefreshNs; in between, the last value is reused.
    if (r.kind == GcKind::kMarkSweepCompact || external_read_ns_ == 0 || now - external_read_ns_ >= kExternalRefreshNs) {
      const uint64_t t0 = measure_ ? uv_hrtime() : 0;
      v8::HeapStatistics hs;
      isolate_->GetHeapStatistics(&hs);
      external_ = static_cast<double>(hs.external_memory());
      external_read_ns_ = now;
      if (measure_) counters_.external_ns += uv_hrtime() - t0;
    }
    r.external = external_;
    ring_.Commit();
    counters_.recorded += 1;
  }
  // Close the matched phase and everything opened after it (an unmatched inner prologue).
  if (open) open_.CloseFrom(open);
  if (measure_) {
    const uint64_t spent = uv_hrtime() - now;
    counters_.callbacks += 1;
    counters_.callback_ns += spent;
    Count(counters_.epilogue_hist, spent);
  }
}

size_t GcRecorder::Drain(double* out, size_t max_records) { return ring_.Drain(out, max_records, space_count_); }

}  // namespace leak_agent
