// Errors thrown by slipstream: each carries where it happened (file, sample, flag) and what was expected.
#pragma once
#include <stdexcept>
#include <string>

namespace slipstream {

// Base of every slipstream error; `what()` is one line fit to print at main.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// A file could not be read, or its contents are not what the format requires.
class FileFormatError : public Error {
 public:
  FileFormatError(const std::string& path, const std::string& problem);
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A configuration value (flag, JSON field, model name) is missing or invalid.
class ConfigError : public Error {
 public:
  using Error::Error;
};

// Weights do not fit a model: missing, unexpected or mis-shaped tensors.
class StateDictError : public Error {
 public:
  using Error::Error;
};

// One sample of a corpus cannot be used (corrupt, truncated or missing image, bad caption);
// readers count and skip these instead of stopping.
class SampleError : public Error {
 public:
  SampleError(const std::string& source, const std::string& problem);
  const std::string& source() const { return source_; }

 private:
  std::string source_;
};

// A tensor handed to a model or loss has the wrong shape or type.
class ShapeError : public Error {
 public:
  using Error::Error;
};

// Training cannot go on: a non-finite loss (naming the step and each loss term) and the like.
class TrainingError : public Error {
 public:
  using Error::Error;
};

}  // namespace slipstream
