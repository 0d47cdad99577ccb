#include "slipstream/core/error.h"

namespace slipstream {

FileFormatError::FileFormatError(const std::string& path, const std::string& problem)
    : Error(path + ": " + problem), path_(path) {}

}  // namespace slipstream
