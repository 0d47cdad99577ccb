// Shard lists as WebDataset and open_clip write them: "shards/{00000..00099}.tar" (numeric ranges
// keep the first bound's zero padding), "{a,b}" alternatives, several braces (every combination),
// and several lists joined by "::".
#pragma once
#include <string>
#include <vector>

namespace slipstream {

// Throws ConfigError for an unbalanced brace or a malformed range.
std::vector<std::string> expand_braces(const std::string& pattern);

}  // namespace slipstream
