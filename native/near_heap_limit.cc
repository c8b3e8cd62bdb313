#include "near_heap_limit.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <v8-profiler.h>

#include <cerrno>
#include <cstring>

#include "heap_profile.h"

namespace leak_agent {

NearHeapLimitCapture::NearHeapLimitCapture(v8::Isolate* isolate, uv_loop_t* loop)
    : isolate_(isolate), loop_(loop) {}

NearHeapLimitCapture::~NearHeapLimitCapture() {
  Disarm();
  // A still-queued interrupt owns the token from here on (a few bytes, at most once per isolate).
  if (token_ != nullptr) token_->owner = nullptr;
  if (async_ != nullptr) {
    // The handle's memory must outlive the close; libuv calls back once it is done with it.
    uv_close(reinterpret_cast<uv_handle_t*>(async_),
             [](uv_handle_t* h) { delete reinterpret_cast<uv_async_t*>(h); });
    async_ = nullptr;
  }
}

bool NearHeapLimitCapture::Arm(Napi::Env env, const std::string& path, size_t raise_bytes,
                               Napi::Function on_fired) {
  if (installed_ || status_.fired) return false;
  if (async_ == nullptr) {
    async_ = new uv_async_t();
    if (uv_async_init(loop_, async_, OnAsync) != 0) {
      delete async_;
      async_ = nullptr;
      return false;
    }
    async_->data = this;
    // Never keep the host process alive because of us.
    uv_unref(reinterpret_cast<uv_handle_t*>(async_));
  }
  env_ = env;
  if (!on_fired.IsEmpty()) {
    on_fired_ = Napi::Persistent(on_fired);
    async_context_ = std::make_unique<Napi::AsyncContext>(env, "leak-agent:near-oom");
  }
  sequence_.Arm(raise_bytes);
  status_.path = path;
  status_.armed = true;
  isolate_->AddNearHeapLimitCallback(Callback, this);
  // If the process survives (a burst, not a leak), V8 gives the borrowed headroom back once the
  // heap falls under half the original limit.
  isolate_->AutomaticallyRestoreInitialHeapLimit(0.5);
  installed_ = true;
  return true;
}

void NearHeapLimitCapture::Uninstall() {
  if (installed_) {
    // V8 aborts (UNREACHABLE) when removing a callback that is not installed: track it exactly.
    isolate_->RemoveNearHeapLimitCallback(Callback, 0);
    installed_ = false;
  }
}

void NearHeapLimitCapture::Disarm() {
  Uninstall();
  // A pending interrupt finds nothing to write; the env is going away or the agent stopped, and
  // either way nobody asked for the profile any more.
  sequence_.Cancel();
  status_.armed = false;
  on_fired_.Reset();
  async_context_.reset();
}

size_t NearHeapLimitCapture::Callback(void* data, size_t current_heap_limit, size_t initial_heap_limit) {
  return static_cast<NearHeapLimitCapture*>(data)->Fire(current_heap_limit, initial_heap_limit);
}

size_t NearHeapLimitCapture::Fire(size_t current_heap_limit, size_t initial_heap_limit) {
  const NearOomStep step = sequence_.Approach(current_heap_limit);
  status_.heap_limit = static_cast<double>(current_heap_limit);
  status_.raised_to = static_cast<double>(step.new_limit);
  if (!status_.fired) {
    status_.fired = true;
    status_.armed = false;
    status_.initial_limit = static_cast<double>(initial_heap_limit);
  }
  if (step.request_interrupt) {
    token_ = new InterruptToken{this};
    isolate_->RequestInterrupt(OnInterrupt, token_);
  }
  // Second approach and the interrupt has not run: last resort, write from here.
  if (step.write_now) WriteAndFinish();
  if (step.uninstall) Uninstall();
  return step.new_limit;
}

void NearHeapLimitCapture::OnInterrupt(v8::Isolate*, void* data) {
  auto* token = static_cast<InterruptToken*>(data);
  NearHeapLimitCapture* self = token->owner;
  delete token;
  if (self == nullptr) return;  // the environment went away first
  self->token_ = nullptr;
  if (self->sequence_.Interrupt()) {
    self->WriteAndFinish();
    self->Uninstall();
  }
}

void NearHeapLimitCapture::WriteAndFinish() {
  WriteProfile();
  if (async_ != nullptr) uv_async_send(async_);
}

void NearHeapLimitCapture::WriteProfile() {
  const int handles_before = v8::HandleScope::NumberOfHandles(isolate_);
  {
    // GetAllocationProfile makes a Local for every function and script name, and Utf8Value makes
    // more. This runs from an interrupt or, as the last resort, inside the near-heap-limit
    // callback: neither promises an open HandleScope, and one that is open belongs to someone else
    // (its handles would live, and keep the names alive, until that scope closes).
    v8::HandleScope scope(isolate_);
    WriteProfileFile();
  }
  status_.handles_left = static_cast<double>(v8::HandleScope::NumberOfHandles(isolate_) - handles_before);
}

void NearHeapLimitCapture::WriteProfileFile() {
  std::unique_ptr<v8::AllocationProfile> profile(isolate_->GetHeapProfiler()->GetAllocationProfile());
  if (!profile) {
    status_.error = "the sampling heap profiler was not running";
    return;
  }
  const std::string tmp = status_.path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    status_.error = std::string("open ") + tmp + ": " + std::strerror(errno);
    return;
  }
  int err = WriteProfileJson(fd, isolate_, profile.get());
  if (::close(fd) != 0 && err == 0) err = errno;
  if (err == 0 && ::rename(tmp.c_str(), status_.path.c_str()) != 0) err = errno;
  if (err != 0) {
    status_.error = std::string("write ") + status_.path + ": " + std::strerror(err);
    ::unlink(tmp.c_str());  // never leave a partial artifact behind
  }
}

void NearHeapLimitCapture::OnAsync(uv_async_t* handle) {
  auto* self = static_cast<NearHeapLimitCapture*>(handle->data);
  if (self == nullptr || self->on_fired_.IsEmpty() || self->env_ == nullptr) return;
  Napi::Env env(self->env_);
  Napi::HandleScope scope(env);
  // MakeCallback: runs microtasks and routes a throw to the process's uncaught handler like any
  // other callback from the loop. The JS side catches everything itself.
  self->on_fired_.MakeCallback(env.Global(), {}, *self->async_context_);
}

}  // namespace leak_agent
