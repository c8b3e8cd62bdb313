# Exception policy: C++ exceptions OFF. The `node_addon_api` target (not `node_addon_api_except`)
# defines NODE_ADDON_API_DISABLE_CPP_EXCEPTIONS and adds -fno-exceptions; we also strip any
# -fexceptions. Our code runs inside V8 GC pauses and the near-heap-limit callback, where a C++
# throw across V8 frames is undefined behaviour; errors reach JS as pending JS exceptions instead.
# -Wno-restrict: GCC 12 reports a false positive inside std::string concatenation (libstdc++ bug 105329).
{
  "targets": [
    {
      "target_name": "leak_agent",
      "sources": [
        "native/addon.cc",
        "native/gc_recorder.cc",
        "native/gc_ring.cc",
        "native/heap_profile.cc",
        "native/near_heap_limit.cc"
      ],
      "dependencies": [
        "<!(node -p \"require('node-addon-api').targets\"):node_addon_api"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NODE_ADDON_API_DISABLE_DEPRECATED"
      ],
      "cflags!": ["-fexceptions"],
      "cflags_cc!": ["-fexceptions"],
      "cflags_cc": ["-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-restrict"]
    }
  ]
}
