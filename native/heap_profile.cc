#include "heap_profile.h"

#include "fd_writer.h"


namespace leak_agent {

namespace {

std::string Utf8(v8::Isolate* isolate, v8::Local<v8::String> s) {
  if (s.IsEmpty()) return std::string();
  v8::String::Utf8Value u(isolate, s);
  return *u ? std::string(*u, u.length()) : std::string();
}

double SelfSize(const v8::AllocationProfile::Node* node) {
  double sum = 0;
  for (const auto& a : node->allocations) sum += static_cast<double>(a.size) * a.count;
  return sum;
}

Napi::Object NodeToJs(Napi::Env env, v8::Isolate* isolate, const v8::AllocationProfile::Node* node) {
  Napi::Object frame = Napi::Object::New(env);
  frame.Set("functionName", Napi::String::New(env, Utf8(isolate, node->name)));
  frame.Set("scriptId", Napi::String::New(env, std::to_string(node->script_id)));
  frame.Set("url", Napi::String::New(env, Utf8(isolate, node->script_name)));
  frame.Set("lineNumber", Napi::Number::New(env, node->line_number - 1));
  frame.Set("columnNumber", Napi::Number::New(env, node->column_number - 1));

  Napi::Array children = Napi::Array::New(env, node->children.size());
  for (size_t i = 0; i < node->children.size(); ++i) {
    children.Set(static_cast<uint32_t>(i), NodeToJs(env, isolate, node->children[i]));
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("callFrame", frame);
  out.Set("selfSize", Napi::Number::New(env, SelfSize(node)));
  out.Set("id", Napi::Number::New(env, node->node_id));
  out.Set("children", children);
  return out;
}

void WriteNode(FdWriter& w, v8::Isolate* isolate, const v8::AllocationProfile::Node* node) {
  w.Put("{\"callFrame\":{\"functionName\":");
  w.String(Utf8(isolate, node->name));
  w.Put(",\"scriptId\":");
  w.String(std::to_string(node->script_id));
  w.Put(",\"url\":");
  w.String(Utf8(isolate, node->script_name));
  w.Put(",\"lineNumber\":");
  w.Number(node->line_number - 1);
  w.Put(",\"columnNumber\":");
  w.Number(node->column_number - 1);
  w.Put("},\"selfSize\":");
  w.Number(SelfSize(node));
  w.Put(",\"id\":");
  w.Number(node->node_id);
  w.Put(",\"children\":[");
  for (size_t i = 0; i < node->children.size(); ++i) {
    if (i > 0) w.Put(',');
    WriteNode(w, isolate, node->children[i]);
  }
  w.Put("]}");
}

}  // namespace

Napi::Value ProfileToJs(Napi::Env env, v8::Isolate* isolate, v8::AllocationProfile* profile) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("head", NodeToJs(env, isolate, profile->GetRootNode()));
  const auto& samples = profile->GetSamples();
  Napi::Array list = Napi::Array::New(env, samples.size());
  for (size_t i = 0; i < samples.size(); ++i) {
    Napi::Object s = Napi::Object::New(env);
    s.Set("size", Napi::Number::New(env, static_cast<double>(samples[i].size) * samples[i].count));
    s.Set("nodeId", Napi::Number::New(env, samples[i].node_id));
    s.Set("ordinal", Napi::Number::New(env, static_cast<double>(samples[i].sample_id)));
    list.Set(static_cast<uint32_t>(i), s);
  }
  out.Set("samples", list);
  return out;
}

int WriteProfileJson(int fd, v8::Isolate* isolate, v8::AllocationProfile* profile) {
  // 64 KiB buffer on the heap, not the stack: this can run deep inside V8 near a stack limit.
  auto* w = new FdWriter(fd);
  w->Put("{\"head\":");
  WriteNode(*w, isolate, profile->GetRootNode());
  w->Put(",\"samples\":[");
  const auto& samples = profile->GetSamples();
  for (size_t i = 0; i < samples.size(); ++i) {
    if (i > 0) w->Put(',');
    w->Put("{\"size\":");
    w->Number(static_cast<double>(samples[i].size) * samples[i].count);
    w->Put(",\"nodeId\":");
    w->Number(samples[i].node_id);
    w->Put(",\"ordinal\":");
    w->Number(static_cast<double>(samples[i].sample_id));
    w->Put('}');
  }
  w->Put("]}\n");
  const int err = w->Finish();
  delete w;
  return err;
}

}  // namespace leak_agent
