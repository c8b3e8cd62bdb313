// The near-OOM capture's hand-off between V8's near-heap-limit callback and the interrupt that
// writes the profile, as a small state machine free of V8 (unit-tested in native/test/).
//
//   1st approach of the limit: lend raise_bytes of headroom and ask for an interrupt; the profile is
//                              written there, where allocating is safe.
//   the interrupt:             writes if nothing has been written yet, then uninstalls.
//   2nd approach before the interrupt ran: the process is dying fast; write right now from inside
//                              the callback as a last resort, lend once more, uninstall.
// So the profile is written at most once, and the limit is raised at most twice.
#ifndef LEAK_AGENT_NEAR_OOM_SEQUENCE_H_
#define LEAK_AGENT_NEAR_OOM_SEQUENCE_H_

#include <cstddef>

namespace leak_agent {

struct NearOomStep {
  size_t new_limit;        // what the callback returns to V8
  bool request_interrupt;  // ask V8 for an interrupt that will call OnInterrupt()
  bool write_now;          // write the profile from inside the callback
  bool uninstall;          // remove the callback after this step
};

class NearOomSequence {
 public:
  void Arm(size_t raise_bytes) {
    raise_bytes_ = raise_bytes;
    approaches_ = 0;
    write_pending_ = false;
  }
  // V8's near-heap-limit callback was called with its current limit.
  NearOomStep Approach(size_t current_limit) {
    approaches_ += 1;
    const size_t raised = current_limit + raise_bytes_;
    if (approaches_ == 1) {
      write_pending_ = true;
      return {raised, true, false, false};
    }
    const bool write = write_pending_;
    write_pending_ = false;
    return {raised, false, write, true};
  }
  // The interrupt ran: true when it must write (and then uninstall); false when the callback
  // already wrote or the capture was cancelled.
  bool Interrupt() {
    const bool write = write_pending_;
    write_pending_ = false;
    return write;
  }
  // Disarmed (the agent stopped, or its environment is going away): a queued interrupt does nothing.
  void Cancel() { write_pending_ = false; }
  bool fired() const { return approaches_ > 0; }
  bool write_pending() const { return write_pending_; }

 private:
  size_t raise_bytes_ = 0;
  unsigned approaches_ = 0;
  bool write_pending_ = false;
};

}  // namespace leak_agent

#endif  // LEAK_AGENT_NEAR_OOM_SEQUENCE_H_
