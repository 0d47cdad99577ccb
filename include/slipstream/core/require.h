// The one-line check of a flag or config field: throws ConfigError(message) unless `ok`.
#pragma once
#include <string>

#include "slipstream/core/error.h"

namespace slipstream {

inline void require(bool ok, const std::string& message) {
  if (!ok) throw ConfigError(message);
}

}  // namespace slipstream
