// Unit tests of the addon's V8-free parts: the GC record ring and its drain into the flat layout JS
// reads, the GC phase pairing, the near-OOM hand-off between the heap-limit callback and the
// interrupt, and the fd JSON writer. Plain C++ (no V8, no Node): scripts/native-unit-tests.sh builds
// and runs it, also under AddressSanitizer + UBSan and valgrind memcheck.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "../fd_writer.h"
#include "../gc_ring.h"
#include "../near_oom_sequence.h"

using namespace leak_agent;

namespace {

int failures = 0;
int checks = 0;

#define CHECK(cond)                                                              \
  do {                                                                           \
    ++checks;                                                                    \
    if (!(cond)) {                                                               \
      ++failures;                                                                \
      std::fprintf(stderr, "  FAILED %s:%d: %s\n", __FILE__, __LINE__, #cond);   \
    }                                                                            \
  } while (0)

#define CHECK_EQ(a, b)                                                                       \
  do {                                                                                       \
    ++checks;                                                                                \
    const double va = static_cast<double>(a), vb = static_cast<double>(b);                   \
    if (!(va == vb)) {                                                                       \
      ++failures;                                                                            \
      std::fprintf(stderr, "  FAILED %s:%d: %s == %s (%.17g vs %.17g)\n", __FILE__, __LINE__, \
                   #a, #b, va, vb);                                                          \
    }                                                                                        \
  } while (0)

// Fills a record whose every figure encodes its sequence number, so a drain can be checked exactly.
void Fill(GcRecord* r, int seq, size_t spaces, bool before) {
  r->kind = static_cast<GcKind>(seq % 5);
  r->has_before = before;
  r->start_ns = static_cast<uint64_t>(seq) * 1000000ull;  // seq ms
  r->duration_ns = static_cast<uint64_t>(seq) * 500000ull;  // seq/2 ms
  r->external = seq * 10.0;
  for (size_t i = 0; i < spaces; ++i) {
    r->after[i] = {seq * 100.0 + static_cast<double>(i), seq * 1000.0 + static_cast<double>(i)};
    r->before[i] = {seq * 100.0 - static_cast<double>(i), seq * 1000.0 - static_cast<double>(i)};
  }
}

bool Push(GcRing& ring, int seq, size_t spaces, bool before = false) {
  GcRecord* slot = ring.NextSlot();
  if (slot == nullptr) return false;
  Fill(slot, seq, spaces, before);
  ring.Commit();
  return true;
}

void CheckDrained(const double* o, int seq, size_t spaces, bool before) {
  CHECK_EQ(o[0], seq % 5);
  CHECK_EQ(o[1], seq);
  CHECK_EQ(o[2], seq / 2.0);
  CHECK_EQ(o[3], seq * 10.0);
  CHECK_EQ(o[4], before ? 1 : 0);
  for (size_t i = 0; i < spaces; ++i) {
    CHECK_EQ(o[5 + 2 * i], seq * 100.0 + static_cast<double>(i));
    CHECK_EQ(o[5 + 2 * i + 1], seq * 1000.0 + static_cast<double>(i));
    CHECK_EQ(o[5 + 2 * spaces + 2 * i], before ? seq * 100.0 - static_cast<double>(i) : 0);
    CHECK_EQ(o[5 + 2 * spaces + 2 * i + 1], before ? seq * 1000.0 - static_cast<double>(i) : 0);
  }
}

void RingFillsThenDrops() {
  GcRing ring;
  ring.Reset(3);
  CHECK_EQ(ring.capacity(), 3);
  CHECK(Push(ring, 1, 2));
  CHECK(Push(ring, 2, 2));
  CHECK(Push(ring, 3, 2));
  CHECK(ring.NextSlot() == nullptr);  // full: the caller counts a drop, nothing is overwritten
  ring.Commit();                      // a stray commit on a full ring changes nothing
  CHECK_EQ(ring.Pending(), 3);
  std::vector<double> out(3 * DrainStride(2));
  CHECK_EQ(ring.Drain(out.data(), 3, 2), 3);
  for (int k = 0; k < 3; ++k) CheckDrained(out.data() + k * DrainStride(2), k + 1, 2, false);
  CHECK_EQ(ring.Pending(), 0);
}

void RingWrapsAroundInOrder() {
  GcRing ring;
  ring.Reset(4);
  const size_t spaces = 3;
  const size_t stride = DrainStride(spaces);
  std::vector<double> out(4 * stride);
  int next = 1, expect = 1;
  // Many rounds of uneven pushes and partial drains: every record comes out once, oldest first.
  for (int round = 0; round < 50; ++round) {
    const int pushes = 1 + round % 4;
    for (int p = 0; p < pushes; ++p) {
      if (Push(ring, next, spaces, next % 2 == 0)) ++next;
    }
    const size_t want = static_cast<size_t>(1 + round % 3);
    const size_t got = ring.Drain(out.data(), want, spaces);
    CHECK(got <= want);
    for (size_t k = 0; k < got; ++k, ++expect) CheckDrained(out.data() + k * stride, expect, spaces, expect % 2 == 0);
  }
  const size_t rest = ring.Drain(out.data(), 4, spaces);
  for (size_t k = 0; k < rest; ++k, ++expect) CheckDrained(out.data() + k * stride, expect, spaces, expect % 2 == 0);
  CHECK_EQ(expect, next);
}

void RingEdgeCases() {
  GcRing ring;
  std::vector<double> out(DrainStride(kMaxSpaces));
  CHECK(ring.NextSlot() == nullptr);  // never sized
  CHECK_EQ(ring.Drain(out.data(), 1, 1), 0);
  ring.Reset(0);  // treated as 1
  CHECK_EQ(ring.capacity(), 1);
  CHECK(Push(ring, 7, kMaxSpaces, true));
  CHECK_EQ(ring.Drain(out.data(), 0, kMaxSpaces), 0);  // asking for none takes none
  CHECK_EQ(ring.Pending(), 1);
  // More spaces than a record holds: clamped to kMaxSpaces, never read or written past the record.
  CHECK_EQ(ring.Drain(out.data(), 1, kMaxSpaces + 5), 1);
  CheckDrained(out.data(), 7, kMaxSpaces, true);
  ring.Reset(2);  // Start() after Stop(): a fresh, empty ring
  CHECK_EQ(ring.Pending(), 0);
}

void PhasesNestAndClose() {
  PhaseStack s;
  PhaseStack::Open* scavenge = s.Push(1, 100, false);
  PhaseStack::Open* marking = s.Push(8, 110, false);
  CHECK(scavenge != nullptr && marking != nullptr);
  CHECK(s.Find(8) == marking);
  s.CloseFrom(s.Find(8));
  CHECK_EQ(s.size(), 1);
  CHECK(s.Find(1) == scavenge && s.Find(1)->start_ns == 100);
  // An epilogue of an outer phase also closes an inner phase that never got its epilogue.
  s.Push(4, 120, true);
  s.CloseFrom(s.Find(1));
  CHECK_EQ(s.size(), 0);
  // An epilogue with no prologue: nothing found, nothing closed.
  CHECK(s.Find(2) == nullptr);
  s.CloseFrom(nullptr);
  CHECK_EQ(s.size(), 0);
  // Deeper than kMaxPending: refused, never written out of bounds.
  for (size_t i = 0; i < kMaxPending; ++i) CHECK(s.Push(2, i, true) != nullptr);
  CHECK(s.Push(2, 99, true) == nullptr);
  CHECK_EQ(s.size(), kMaxPending);
  CHECK(s.Find(2)->start_ns == kMaxPending - 1);  // the most recent of that type
  s.Clear();
  CHECK_EQ(s.size(), 0);
}

constexpr size_t kMiB = 1024 * 1024;

void NearOomWritesFromTheInterrupt() {
  NearOomSequence q;
  q.Arm(32 * kMiB);
  CHECK(!q.fired());
  NearOomStep first = q.Approach(128 * kMiB);
  CHECK_EQ(first.new_limit, 160 * kMiB);
  CHECK(first.request_interrupt && !first.write_now && !first.uninstall);
  CHECK(q.fired() && q.write_pending());
  CHECK(q.Interrupt());   // the interrupt writes...
  CHECK(!q.Interrupt());  // ...exactly once
  // Had V8 called again (it will not: the interrupt uninstalled), nothing would be written twice.
  NearOomStep again = q.Approach(160 * kMiB);
  CHECK(!again.write_now && again.uninstall && !again.request_interrupt);
}

void NearOomLastResortInsideTheCallback() {
  NearOomSequence q;
  q.Arm(32 * kMiB);
  q.Approach(128 * kMiB);
  // The heap reaches the raised limit before the interrupt ran: write now, lend once more, leave.
  NearOomStep second = q.Approach(160 * kMiB);
  CHECK(second.write_now && second.uninstall && !second.request_interrupt);
  CHECK_EQ(second.new_limit, 192 * kMiB);  // at most 2 x raise in total
  CHECK(!q.Interrupt());                   // the late interrupt finds nothing to do
}

void NearOomCancelled() {
  NearOomSequence q;
  q.Arm(32 * kMiB);
  q.Approach(128 * kMiB);
  q.Cancel();  // the agent stopped, or its environment is being torn down
  CHECK(!q.Interrupt());
  CHECK(!q.Approach(160 * kMiB).write_now);
}

std::string ReadAll(const char* path) {
  std::string out;
  FILE* f = std::fopen(path, "rb");
  if (f == nullptr) return out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) out.append(buf, n);
  std::fclose(f);
  return out;
}

void WriterEscapesAndCrossesItsBuffer() {
  char path[] = "/tmp/leak-agent-unit-XXXXXX";
  const int fd = mkstemp(path);
  CHECK(fd >= 0);
  auto* w = new FdWriter(fd);  // 64 KiB buffer: on the heap, as in WriteProfileJson
  w->Put('[');
  w->String(std::string("quote\" back\\slash \x01\n\t end", 25));
  w->Put(',');
  w->Number(1234567890123.0);
  w->Put(',');
  w->Number(-1);
  // A string longer than the buffer, so Flush() runs mid-string.
  const std::string big(200 * 1024, 'x');
  w->Put(',');
  w->String(big);
  w->Put(']');
  CHECK_EQ(w->Finish(), 0);
  delete w;
  close(fd);
  const std::string got = ReadAll(path);
  unlink(path);
  const std::string want = std::string("[\"quote\\\" back\\\\slash \\u0001\\u000a\\u0009 end\",1234567890123,-1,\"") + big + "\"]";
  CHECK(got == want);
  CHECK_EQ(got.size(), want.size());
}

void WriterKeepsTheFirstError() {
  int fds[2];
  CHECK(pipe(fds) == 0);
  close(fds[0]);  // nobody reads: writes fail with EPIPE (SIGPIPE ignored in main)
  auto* w = new FdWriter(fds[1]);
  const std::string big(100 * 1024, 'y');
  w->String(big);  // forces a flush into the broken pipe
  w->String(big);  // and more after the error: no further write is tried
  CHECK_EQ(w->Finish(), EPIPE);
  delete w;
  close(fds[1]);
  auto* bad = new FdWriter(-1);
  bad->Put("x");
  CHECK_EQ(bad->Finish(), EBADF);
  delete bad;
}

}  // namespace

int main() {
  std::signal(SIGPIPE, SIG_IGN);
  struct {
    const char* name;
    void (*fn)();
  } tests[] = {
      {"ring fills, then drops instead of overwriting", RingFillsThenDrops},
      {"ring wraps around and drains oldest first", RingWrapsAroundInOrder},
      {"ring edge cases: unsized, capacity 0, too many spaces, restart", RingEdgeCases},
      {"GC phases nest, close inner phases, refuse overflow", PhasesNestAndClose},
      {"near-OOM: profile written once, from the interrupt", NearOomWritesFromTheInterrupt},
      {"near-OOM: last-resort write inside the callback, late interrupt does nothing", NearOomLastResortInsideTheCallback},
      {"near-OOM: cancelled capture writes nothing", NearOomCancelled},
      {"fd writer: JSON escapes, strings longer than its buffer", WriterEscapesAndCrossesItsBuffer},
      {"fd writer: keeps the first error and stops writing", WriterKeepsTheFirstError},
  };
  for (const auto& t : tests) {
    const int before = failures;
    t.fn();
    std::printf("%s %s\n", failures == before ? "ok  " : "FAIL", t.name);
  }
  std::printf("%d checks, %d failed\n", checks, failures);
  return failures == 0 ? 0 : 1;
}
