// The sampling heap profile in the shape of the DevTools protocol's HeapProfiler.SamplingHeapProfile
// ({head:{callFrame,selfSize,id,children}, samples:[{size,nodeId,ordinal}]}), so a profile from this
// addon and one from node:inspector are interchangeable and load in Chrome DevTools as .heapprofile.
// Conversions follow the inspector: 0-based line/column, scriptId as a string, selfSize = sum of
// size*count of the node's own allocations, sample size = size*count.
#ifndef LEAK_AGENT_HEAP_PROFILE_H_
#define LEAK_AGENT_HEAP_PROFILE_H_

#include <napi.h>
#include <v8-profiler.h>
#include <v8.h>

#include <string>

namespace leak_agent {

// JS object for getAllocationProfile().
Napi::Value ProfileToJs(Napi::Env env, v8::Isolate* isolate, v8::AllocationProfile* profile);

// Writes the profile as JSON to an open file descriptor with plain write(2) calls through a small
// fixed buffer: no JS heap allocation, usable inside the near-heap-limit callback.
// Returns 0 or an errno value.
int WriteProfileJson(int fd, v8::Isolate* isolate, v8::AllocationProfile* profile);

}  // namespace leak_agent

#endif  // LEAK_AGENT_HEAP_PROFILE_H_
