// A buffered JSON writer over a raw file descriptor: plain write(2) calls through a fixed buffer,
// no allocation while writing, so the near-heap-limit path can use it inside a GC callback. Free of
// V8 (unit-tested in native/test/). Remembers the first write error and stops writing after it.
#ifndef LEAK_AGENT_FD_WRITER_H_
#define LEAK_AGENT_FD_WRITER_H_

#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <string>

namespace leak_agent {

class FdWriter {
 public:
  explicit FdWriter(int fd) : fd_(fd) {}
  void Put(char c) {
    if (len_ == sizeof(buf_)) Flush();
    buf_[len_++] = c;
  }
  void Put(const char* s) {
    while (*s) Put(*s++);
  }
  void Number(double v) {
    char tmp[32];
    // %.17g round-trips doubles; sizes and ids are integers well below 2^53.
    std::snprintf(tmp, sizeof(tmp), "%.17g", v);
    Put(tmp);
  }
  void String(const std::string& s) {
    Put('"');
    for (unsigned char c : s) {
      if (c == '"' || c == '\\') {
        Put('\\');
        Put(static_cast<char>(c));
      } else if (c < 0x20) {
        char tmp[8];
        std::snprintf(tmp, sizeof(tmp), "\\u%04x", c);
        Put(tmp);
      } else {
        Put(static_cast<char>(c));
      }
    }
    Put('"');
  }
  int Finish() {
    Flush();
    return error_;
  }

 private:
  void Flush() {
    size_t off = 0;
    while (error_ == 0 && off < len_) {
      ssize_t n = ::write(fd_, buf_ + off, len_ - off);
      if (n < 0) {
        if (errno == EINTR) continue;
        error_ = errno;
      } else {
        off += static_cast<size_t>(n);
      }
    }
    len_ = 0;
  }
  int fd_;
  int error_ = 0;
  size_t len_ = 0;
  char buf_[64 * 1024];
};

}  // namespace leak_agent

#endif  // LEAK_AGENT_FD_WRITER_H_
