// leak-agent native addon: module surface (node-addon-api) over V8 hooks (<v8.h>).
//
// Exception policy: C++ exceptions are disabled (NAPI_DISABLE_CPP_EXCEPTIONS, -fno-exceptions from
// node's common.gypi). Code here runs inside GC pauses and the near-heap-limit path where a C++
// throw across V8 frames would be undefined behaviour; errors reach JS as pending JS exceptions
// (TypeError naming the bad parameter) and are checked with env.IsExceptionPending() where a
// node-addon-api call can fail.
//
// Lifetime: one State per Node environment (main thread or worker), created in Init and stored as
// the addon's instance data. An environment cleanup hook first removes every V8 callback we
// installed, then frees the State, so a worker that loads the agent gets its own recorder and exits
// cleanly, and no callback ever fires into freed memory.
#include <napi.h>
// For NODE_MODULE_VERSION only. Node 20's node_version.h also #defines NAPI_VERSION (9) without
// checking for ours (binding.gyp: 8); keep ours.
#pragma push_macro("NAPI_VERSION")
#undef NAPI_VERSION
#include <node_version.h>
#undef NAPI_VERSION
#pragma pop_macro("NAPI_VERSION")
#include <uv.h>
#include <v8-profiler.h>
#include <v8.h>

#include <cmath>
#include <memory>
#include <string>

#include "gc_recorder.h"
#include "heap_profile.h"
#include "near_heap_limit.h"

// Bumped when the JS<->native contract changes; src/native/addon.ts refuses a stale build.
#define LEAK_AGENT_API_VERSION 1

#if defined(__x86_64__)
#define LEAK_AGENT_ARCH "x64"
#elif defined(__aarch64__)
#define LEAK_AGENT_ARCH "arm64"
#else
#define LEAK_AGENT_ARCH "unknown"
#endif
#define LEAK_AGENT_STR2(x) #x
#define LEAK_AGENT_STR(x) LEAK_AGENT_STR2(x)
#define LEAK_AGENT_ABI_STRING LEAK_AGENT_STR(NODE_MODULE_VERSION)

// What this binary was built for, as plain bytes in .rodata. The loader (src/native/addon.ts) reads
// the file and compares this with the running Node *before* loading it: a binary built against
// another Node's <v8.h> must never run a single V8 call in the host, and Node does not check the
// ABI of a Node-API module itself. `used` keeps the linker from dropping it.
extern "C" __attribute__((used, visibility("default"))) const char leak_agent_abi_tag[] =
    "leak-agent-native:abi=" LEAK_AGENT_ABI_STRING ":platform=linux:arch=" LEAK_AGENT_ARCH
    ":api=" LEAK_AGENT_STR(LEAK_AGENT_API_VERSION) ":";

namespace leak_agent {
namespace {

constexpr int kApiVersion = LEAK_AGENT_API_VERSION;
// Interval used when armNearHeapLimit has to start the sampling heap profiler itself. V8's own
// default (one sample per 512 KiB allocated on average): cheap enough to leave on for the process
// lifetime, and a leak that fills the heap still leaves hundreds of samples.
constexpr double kNearOomSamplingInterval = 512 * 1024;
constexpr int kNearOomStackDepth = 32;

struct State {
  State(v8::Isolate* iso, uv_loop_t* loop) : isolate(iso), recorder(iso), near_oom(iso, loop) {}
  v8::Isolate* isolate;
  GcRecorder recorder;
  NearHeapLimitCapture near_oom;
  bool sampling = false;          // the sampling heap profiler was started through this addon
  bool sampling_for_near_oom = false;  // ...by armNearHeapLimit, at kNearOomSamplingInterval
  double sampling_interval = 0;
  int sampling_depth = 0;
};

State* GetState(Napi::Env env) { return env.GetInstanceData<State>(); }

void Cleanup(void* arg) {
  auto* state = static_cast<State*>(arg);
  // Uninstall before freeing: GC and near-heap-limit callbacks hold a pointer into State.
  state->recorder.Stop();
  state->near_oom.Disarm();
  if (state->sampling) state->isolate->GetHeapProfiler()->StopSamplingHeapProfiler();
  delete state;
}

void NoopFinalize(Napi::Env, State*) {}

Napi::Value ThrowType(Napi::Env env, const std::string& message) {
  Napi::TypeError::New(env, message).ThrowAsJavaScriptException();
  return env.Undefined();
}

std::string Describe(const Napi::Value& v) {
  if (v.IsUndefined()) return "undefined";
  if (v.IsNull()) return "null";
  if (v.IsNumber()) return std::to_string(v.As<Napi::Number>().DoubleValue());
  if (v.IsString()) return "'" + v.As<Napi::String>().Utf8Value() + "'";
  return "a " + std::string(v.IsObject() ? "object" : "non-number");
}

// Reads an integer argument in [lo, hi] or throws a TypeError that names the parameter.
bool IntegerArg(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name, double lo,
                double hi, double* out) {
  Napi::Value v = info[i];
  double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : NAN;
  if (!v.IsNumber() || !std::isfinite(d) || std::floor(d) != d || d < lo || d > hi) {
    ThrowType(info.Env(), std::string(fn) + ": " + name + " must be an integer from " +
                              std::to_string(static_cast<long long>(lo)) + " to " +
                              std::to_string(static_cast<long long>(hi)) + ", got " + Describe(v));
    return false;
  }
  *out = d;
  return true;
}

Napi::Value SpaceNames(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const auto& names = GetState(env)->recorder.space_names();
  Napi::Array out = Napi::Array::New(env, names.size());
  for (size_t i = 0; i < names.size(); ++i) out.Set(static_cast<uint32_t>(i), names[i]);
  return out;
}

// startGcRecorder(capacity, measure): true if started, false if it was already running.
Napi::Value StartGcRecorder(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  double capacity;
  if (!IntegerArg(info, 0, "startGcRecorder", "capacity", 1, 65536, &capacity)) return env.Undefined();
  if (!info[1].IsBoolean()) return ThrowType(env, "startGcRecorder: measure must be a boolean, got " + Describe(info[1]));
  bool started = GetState(env)->recorder.Start(static_cast<size_t>(capacity), info[1].As<Napi::Boolean>().Value());
  return Napi::Boolean::New(env, started);
}

Napi::Value StopGcRecorder(const Napi::CallbackInfo& info) {
  GetState(info.Env())->recorder.Stop();
  return info.Env().Undefined();
}

// drainGcRecords(): Float64Array of every pending record, oldest first (layout in gc_recorder.h).
Napi::Value DrainGcRecords(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  GcRecorder& rec = GetState(env)->recorder;
  const size_t n = rec.Pending();
  Napi::Float64Array out = Napi::Float64Array::New(env, n * rec.Stride());
  if (env.IsExceptionPending()) return env.Undefined();
  rec.Drain(out.Data(), n);
  return out;
}

Napi::Value GcCounters(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const GcRecorder& rec = GetState(env)->recorder;
  const RecorderCounters c = rec.counters();
  Napi::Object out = Napi::Object::New(env);
  out.Set("recorded", static_cast<double>(c.recorded));
  out.Set("dropped", static_cast<double>(c.dropped));
  out.Set("pending", static_cast<double>(rec.Pending()));
  out.Set("callbacks", static_cast<double>(c.callbacks));
  out.Set("callbackNs", static_cast<double>(c.callback_ns));
  out.Set("spacesNs", static_cast<double>(c.spaces_ns));
  out.Set("externalNs", static_cast<double>(c.external_ns));
  Napi::Array pro = Napi::Array::New(env, kHistBuckets);
  Napi::Array epi = Napi::Array::New(env, kHistBuckets);
  for (size_t i = 0; i < kHistBuckets; ++i) {
    pro.Set(static_cast<uint32_t>(i), c.prologue_hist[i]);
    epi.Set(static_cast<uint32_t>(i), c.epilogue_hist[i]);
  }
  out.Set("histogramBucketNs", static_cast<double>(kHistBucketNs));
  out.Set("prologueHistogram", pro);
  out.Set("epilogueHistogram", epi);
  out.Set("running", rec.running());
  return out;
}

// The clock of the records' start times (uv_hrtime, monotonic), in milliseconds.
Napi::Value NowMs(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(uv_hrtime()) / 1e6);
}

bool StartSampling(State* state, double interval, int depth) {
  bool ok = state->isolate->GetHeapProfiler()->StartSamplingHeapProfiler(static_cast<uint64_t>(interval), depth);
  if (ok) {
    state->sampling = true;
    state->sampling_for_near_oom = false;
    state->sampling_interval = interval;
    state->sampling_depth = depth;
  }
  return ok;
}

void StartNearOomSampling(State* state) {
  if (StartSampling(state, kNearOomSamplingInterval, kNearOomStackDepth)) state->sampling_for_near_oom = true;
}

// startSamplingHeapProfiler(intervalBytes, stackDepth): false when a sampling profiler already runs
// in this isolate (V8 has one per isolate, shared with node:inspector). The low-rate profiler that
// armNearHeapLimit started is the exception: it is restarted with the caller's parameters (its
// profile starts afresh) and keeps serving the near-OOM capture.
Napi::Value StartSamplingHeapProfiler(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  double interval, depth;
  if (!IntegerArg(info, 0, "startSamplingHeapProfiler", "intervalBytes", 1, 1024.0 * 1024 * 1024, &interval)) return env.Undefined();
  if (!IntegerArg(info, 1, "startSamplingHeapProfiler", "stackDepth", 1, 1024, &depth)) return env.Undefined();
  State* state = GetState(env);
  if (state->sampling && state->sampling_for_near_oom) {
    state->isolate->GetHeapProfiler()->StopSamplingHeapProfiler();
    state->sampling = false;
  }
  return Napi::Boolean::New(env, StartSampling(state, interval, static_cast<int>(depth)));
}

// stopSamplingHeapProfiler(): stops sampling. While the near-OOM capture is armed it needs live
// samples, so sampling restarts at once at the near-OOM interval (with a fresh, empty profile).
Napi::Value StopSamplingHeapProfiler(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  State* state = GetState(env);
  state->isolate->GetHeapProfiler()->StopSamplingHeapProfiler();
  state->sampling = false;
  if (state->near_oom.status().armed) StartNearOomSampling(state);
  return env.Undefined();
}

// getAllocationProfile(): the live sampled allocations, or null when no sampling profiler runs.
Napi::Value GetAllocationProfile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  State* state = GetState(env);
  std::unique_ptr<v8::AllocationProfile> profile(state->isolate->GetHeapProfiler()->GetAllocationProfile());
  if (!profile) return env.Null();
  return ProfileToJs(env, state->isolate, profile.get());
}

// armNearHeapLimit(profilePath, raiseBytes[, onFired]): see near_heap_limit.h.
Napi::Value ArmNearHeapLimit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString() || info[0].As<Napi::String>().Utf8Value().empty()) {
    return ThrowType(env, "armNearHeapLimit: profilePath must be a non-empty string, got " + Describe(info[0]));
  }
  const std::string path = info[0].As<Napi::String>().Utf8Value();
  if (path.find('\0') != std::string::npos) return ThrowType(env, "armNearHeapLimit: profilePath must not contain NUL");
  double raise;
  // Bounded on purpose: the raise is borrowed headroom for a dying process, not a new heap size.
  if (!IntegerArg(info, 1, "armNearHeapLimit", "raiseBytes", 1024.0 * 1024, 1024.0 * 1024 * 1024, &raise)) return env.Undefined();
  Napi::Function on_fired;
  if (info.Length() > 2 && !info[2].IsUndefined()) {
    if (!info[2].IsFunction()) return ThrowType(env, "armNearHeapLimit: onFired must be a function, got " + Describe(info[2]));
    on_fired = info[2].As<Napi::Function>();
  }
  State* state = GetState(env);
  // Near-OOM evidence needs live samples: start the sampling profiler unless one already runs
  // (ours or node:inspector's; either serves GetAllocationProfile).
  std::unique_ptr<v8::AllocationProfile> probe(state->isolate->GetHeapProfiler()->GetAllocationProfile());
  if (!probe) StartNearOomSampling(state);
  probe.reset();
  bool armed = state->near_oom.Arm(env, path, static_cast<size_t>(raise), on_fired);
  return Napi::Boolean::New(env, armed);
}

// disarmNearHeapLimit(): uninstalls the callback and stops the sampling profiler if it was only
// running for the near-OOM capture.
Napi::Value DisarmNearHeapLimit(const Napi::CallbackInfo& info) {
  State* state = GetState(info.Env());
  state->near_oom.Disarm();
  if (state->sampling && state->sampling_for_near_oom) {
    state->isolate->GetHeapProfiler()->StopSamplingHeapProfiler();
    state->sampling = false;
    state->sampling_for_near_oom = false;
  }
  return info.Env().Undefined();
}

Napi::Value NearHeapLimitStatusJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  State* state = GetState(env);
  const NearHeapLimitStatus& s = state->near_oom.status();
  Napi::Object out = Napi::Object::New(env);
  out.Set("armed", s.armed);
  out.Set("fired", s.fired);
  out.Set("path", s.path);
  out.Set("error", s.error.empty() ? env.Null() : Napi::String::New(env, s.error));
  out.Set("heapLimit", s.heap_limit);
  out.Set("raisedTo", s.raised_to);
  out.Set("initialLimit", s.initial_limit);
  out.Set("handlesLeft", s.handles_left);
  out.Set("samplingIntervalBytes", state->sampling ? state->sampling_interval : 0);
  return out;
}

// process.versions.modules read through Node-API only (ABI-stable), or "" when unreadable.
std::string RuntimeAbi(Napi::Env env) {
  Napi::Value process = env.Global().Get("process");
  if (env.IsExceptionPending() || !process.IsObject()) return std::string();
  Napi::Value versions = process.As<Napi::Object>().Get("versions");
  if (env.IsExceptionPending() || !versions.IsObject()) return std::string();
  Napi::Value modules = versions.As<Napi::Object>().Get("modules");
  if (env.IsExceptionPending() || !modules.IsString()) return std::string();
  return modules.As<Napi::String>().Utf8Value();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  // Second line of defence behind the loader's check of leak_agent_abi_tag (a caller may
  // process.dlopen this file directly): refuse before the first V8 call.
  const std::string runtime_abi = RuntimeAbi(env);
  if (env.IsExceptionPending()) return exports;
  if (runtime_abi != LEAK_AGENT_ABI_STRING) {
    Napi::Error::New(env, "leak-agent: this native addon was built for Node ABI " LEAK_AGENT_ABI_STRING
                          ", this Node needs ABI " + (runtime_abi.empty() ? std::string("(unknown)") : runtime_abi) +
                          "; refused before any V8 call")
        .ThrowAsJavaScriptException();
    return exports;
  }
  v8::Isolate* isolate = v8::Isolate::GetCurrent();
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || isolate == nullptr || loop == nullptr) {
    Napi::Error::New(env, "leak-agent: no V8 isolate or event loop for this environment").ThrowAsJavaScriptException();
    return exports;
  }
  auto* state = new State(isolate, loop);
  env.SetInstanceData<State, NoopFinalize>(state);
  // Cleanup hooks run in reverse order of registration, before Node-API frees instance data.
  napi_add_env_cleanup_hook(env, Cleanup, state);

  exports.Set("apiVersion", Napi::Number::New(env, kApiVersion));
  exports.Set("nodeModuleVersion", Napi::Number::New(env, NODE_MODULE_VERSION));
  exports.Set("spaceNames", Napi::Function::New(env, SpaceNames, "spaceNames"));
  exports.Set("startGcRecorder", Napi::Function::New(env, StartGcRecorder, "startGcRecorder"));
  exports.Set("stopGcRecorder", Napi::Function::New(env, StopGcRecorder, "stopGcRecorder"));
  exports.Set("drainGcRecords", Napi::Function::New(env, DrainGcRecords, "drainGcRecords"));
  exports.Set("gcCounters", Napi::Function::New(env, GcCounters, "gcCounters"));
  exports.Set("nowMs", Napi::Function::New(env, NowMs, "nowMs"));
  exports.Set("startSamplingHeapProfiler", Napi::Function::New(env, StartSamplingHeapProfiler, "startSamplingHeapProfiler"));
  exports.Set("stopSamplingHeapProfiler", Napi::Function::New(env, StopSamplingHeapProfiler, "stopSamplingHeapProfiler"));
  exports.Set("getAllocationProfile", Napi::Function::New(env, GetAllocationProfile, "getAllocationProfile"));
  exports.Set("armNearHeapLimit", Napi::Function::New(env, ArmNearHeapLimit, "armNearHeapLimit"));
  exports.Set("disarmNearHeapLimit", Napi::Function::New(env, DisarmNearHeapLimit, "disarmNearHeapLimit"));
  exports.Set("nearHeapLimitStatus", Napi::Function::New(env, NearHeapLimitStatusJs, "nearHeapLimitStatus"));
  return exports;
}

}  // namespace
}  // namespace leak_agent

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return leak_agent::Init(env, exports); }

NODE_API_MODULE(leak_agent, InitModule)
