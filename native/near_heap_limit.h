// Near-OOM capture: V8's near-heap-limit callback, armed once per isolate.
//
// When the heap is about to hit its limit V8 calls us from inside a GC. Writing the profile right
// there is not safe: GetAllocationProfile allocates on the JS heap (function names, the line-end
// tables of scripts) and an allocation failure inside the callback re-enters the GC with no headroom
// and kills the process before anything is written (seen here in ~1 of 6 runs on Node 20). So:
//   1st call: return a limit raised by a bounded amount and RequestInterrupt(); the interrupt runs
//             at V8's next stack check, with headroom, and writes the profile.
//   2nd call before the interrupt ran (the process is dying fast): write from inside the callback
//             as a last resort, raise once more, and uninstall.
// Writing is C++ straight to disk (temp name + rename, mode 0600), then an unref'd uv_async handle
// pokes JS so the agent can log it if the loop ever turns again. After writing we uninstall
// ourselves, so a later approach goes to whoever was installed before us (for a worker, Node's
// handler that terminates just that worker). Total raise is at most 2 x raise_bytes.
#ifndef LEAK_AGENT_NEAR_HEAP_LIMIT_H_
#define LEAK_AGENT_NEAR_HEAP_LIMIT_H_

#include <napi.h>
#include <uv.h>
#include <v8.h>

#include <cstddef>
#include <memory>
#include <string>

#include "near_oom_sequence.h"

namespace leak_agent {

struct NearHeapLimitStatus {
  bool armed = false;
  bool fired = false;
  std::string path;
  std::string error;      // empty when the profile was written
  double heap_limit = 0;  // V8's limit when the callback fired
  double raised_to = 0;   // the limit we returned
  double initial_limit = 0;
  // V8 handles the profile write left in the isolate's handle scopes (0 when it closed its own
  // HandleScope): measured on every write because the write can run inside a GC callback.
  double handles_left = 0;
};

class NearHeapLimitCapture {
 public:
  NearHeapLimitCapture(v8::Isolate* isolate, uv_loop_t* loop);
  ~NearHeapLimitCapture();
  NearHeapLimitCapture(const NearHeapLimitCapture&) = delete;
  NearHeapLimitCapture& operator=(const NearHeapLimitCapture&) = delete;

  // Installs the callback. on_fired (may be empty) is called on the loop after it fired.
  // Returns false (nothing changed) when already armed or already fired.
  bool Arm(Napi::Env env, const std::string& path, size_t raise_bytes, Napi::Function on_fired);
  // Uninstalls the callback if it is still installed. Idempotent; safe in the env cleanup hook.
  void Disarm();
  const NearHeapLimitStatus& status() const { return status_; }

 private:
  static size_t Callback(void* data, size_t current_heap_limit, size_t initial_heap_limit);
  static void OnInterrupt(v8::Isolate* isolate, void* data);
  static void OnAsync(uv_async_t* handle);
  size_t Fire(size_t current_heap_limit, size_t initial_heap_limit);
  void WriteAndFinish();
  void WriteProfile();
  void WriteProfileFile();
  void Uninstall();

  v8::Isolate* isolate_;
  uv_loop_t* loop_;
  uv_async_t* async_ = nullptr;  // owned by libuv until its close callback deletes it
  bool installed_ = false;
  NearOomSequence sequence_;  // when to write, raise and uninstall (near_oom_sequence.h)
  // The interrupt may still be queued in V8 when this object dies (env teardown); it then finds a
  // token whose owner is null. The token is the only thing the interrupt dereferences.
  struct InterruptToken {
    NearHeapLimitCapture* owner;
  };
  InterruptToken* token_ = nullptr;
  NearHeapLimitStatus status_;
  napi_env env_ = nullptr;
  Napi::FunctionReference on_fired_;
  std::unique_ptr<Napi::AsyncContext> async_context_;
};

}  // namespace leak_agent

#endif  // LEAK_AGENT_NEAR_HEAP_LIMIT_H_
