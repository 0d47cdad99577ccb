#include "slipstream/core/error.h"

namespace slipstream {

FileFormatError::FileFormatError(const std::string& path, const std::string& problem)
    : Error(path + ": " + problem), path_(path) {}

SampleError::SampleError(const std::string& source, const std::string& problem)
    : Error(source + ": " + problem), source_(source) {}

}  // namespace slipstream
