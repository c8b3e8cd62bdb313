#include "gc_ring.h"

namespace leak_agent {

void GcRing::Reset(size_t capacity) {
  slots_.assign(capacity > 0 ? capacity : 1, GcRecord{});
  head_ = 0;
  count_ = 0;
}

GcRecord* GcRing::NextSlot() {
  if (slots_.empty() || count_ == slots_.size()) return nullptr;
  return &slots_[(head_ + count_) % slots_.size()];
}

void GcRing::Commit() {
  if (count_ < slots_.size()) count_ += 1;
}

size_t GcRing::Drain(double* out, size_t max_records, size_t space_count) {
  if (space_count > kMaxSpaces) space_count = kMaxSpaces;
  const size_t n = count_ < max_records ? count_ : max_records;
  const size_t stride = DrainStride(space_count);
  for (size_t k = 0; k < n; ++k) {
    const GcRecord& r = slots_[(head_ + k) % slots_.size()];
    double* o = out + k * stride;
    o[0] = static_cast<double>(r.kind);
    o[1] = static_cast<double>(r.start_ns) / 1e6;
    o[2] = static_cast<double>(r.duration_ns) / 1e6;
    o[3] = r.external;
    o[4] = r.has_before ? 1 : 0;
    double* after = o + 5;
    double* before = after + 2 * space_count;
    for (size_t i = 0; i < space_count; ++i) {
      after[2 * i] = r.after[i].used;
      after[2 * i + 1] = r.after[i].committed;
      before[2 * i] = r.has_before ? r.before[i].used : 0;
      before[2 * i + 1] = r.has_before ? r.before[i].committed : 0;
    }
  }
  if (n > 0) {
    head_ = (head_ + n) % slots_.size();
    count_ -= n;
  }
  return n;
}

PhaseStack::Open* PhaseStack::Push(int type, uint64_t start_ns, bool has_before) {
  if (size_ >= kMaxPending) return nullptr;
  Open& o = open_[size_++];
  o.type = type;
  o.start_ns = start_ns;
  o.has_before = has_before;
  return &o;
}

PhaseStack::Open* PhaseStack::Find(int type) {
  for (size_t i = size_; i > 0; --i) {
    if (open_[i - 1].type == type) return &open_[i - 1];
  }
  return nullptr;
}

void PhaseStack::CloseFrom(const Open* open) {
  if (open >= open_ && open < open_ + size_) size_ = static_cast<size_t>(open - open_);
}

}  // namespace leak_agent
