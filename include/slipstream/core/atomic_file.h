// Writing a file so that readers see either the old contents or the complete new ones:
// data goes to a temporary file beside the target, which is fsync'ed and renamed over it.
#pragma once
#include <string>

namespace slipstream {

// Replaces `path` with `contents` through an AtomicFileWriter.
void write_file_atomically(const std::string& path, const std::string& contents);

class AtomicFileWriter {
 public:
  explicit AtomicFileWriter(std::string path);
  ~AtomicFileWriter();  // removes the temporary file if commit() was never reached
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

  void write(const char* data, size_t size);
  // Flushes, fsyncs, renames onto the target path and fsyncs the folder.
  void commit();

 private:
  std::string path_;
  std::string temporary_path_;
  int fd_ = -1;
};

}  // namespace slipstream
