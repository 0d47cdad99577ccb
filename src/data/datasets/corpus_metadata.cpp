#include "slipstream/data/datasets/corpus_metadata.h"

#include <nlohmann/json.hpp>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <unordered_map>
#include <unordered_set>

#include "slipstream/core/error.h"
#include "slipstream/data/datasets/yfcc15m.h"
#include "slipstream/data/formats/delimited_text.h"
#include "slipstream/data/formats/file_bytes.h"
#include "export_metadata_script.h"  // kExportMetadataScript, generated from scripts/export_metadata.py

namespace slipstream {
namespace {

nlohmann::json parse_json_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw FileFormatError(path, "cannot open");
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw FileFormatError(path, std::string("invalid JSON: ") + e.what());
  }
}

bool has_suffix(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string shell_quote(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) {
    if (c == '\'') quoted += "'\\''"; else quoted += c;
  }
  return quoted + "'";
}

void add_json_line(MetadataIndexBuilder& builder, const std::string& line, const std::string& source, int64_t number) {
  if (line.empty()) return;
  try {
    const nlohmann::json record = nlohmann::json::parse(line);
    std::vector<std::string> captions = record.at("captions").get<std::vector<std::string>>();
    const std::string key = record.at("key").get<std::string>();
    builder.add(key, std::vector<std::string_view>(captions.begin(), captions.end()));
  } catch (const nlohmann::json::exception& e) {
    throw FileFormatError(source, "line " + std::to_string(number) + ": expected {\"key\": str, \"captions\": [str]} (" +
                                      e.what() + ")");
  }
}

}  // namespace

void check_caption_corpus_name(const std::string& corpus) {
  for (const char* known : {"yfcc15m", "cc3m", "cc12m", "coco", "redcaps", "csv", "tsv"}) {
    if (corpus == known) return;
  }
  throw ConfigError("--dataset: '" + corpus + "' is not a caption corpus (yfcc15m, cc3m, cc12m, coco, redcaps, csv, tsv)");
}

MetadataIndex coco_metadata(const std::string& captions_json) {
  const nlohmann::json document = parse_json_file(captions_json);
  if (!document.contains("annotations") || !document["annotations"].is_array()) {
    throw FileFormatError(captions_json, "expected COCO captions JSON with an \"annotations\" list");
  }
  std::vector<int64_t> order;
  std::unordered_map<int64_t, std::vector<std::string>> captions;
  for (const auto& annotation : document["annotations"]) {
    try {
      const int64_t id = annotation.at("image_id").get<int64_t>();
      auto [it, inserted] = captions.try_emplace(id);
      if (inserted) order.push_back(id);
      it->second.push_back(annotation.at("caption").get<std::string>());
    } catch (const nlohmann::json::exception& e) {
      throw FileFormatError(captions_json, std::string("annotation without integer image_id and string caption: ") + e.what());
    }
  }
  MetadataIndexBuilder builder("coco");
  for (int64_t id : order) {
    char key[64];
    std::snprintf(key, sizeof(key), "train2017/%012lld.jpg", static_cast<long long>(id));
    const auto& texts = captions[id];
    builder.add(key, std::vector<std::string_view>(texts.begin(), texts.end()));
  }
  return builder.build();
}

MetadataIndex redcaps_metadata(const std::string& annotations_json) {
  const nlohmann::json document = parse_json_file(annotations_json);
  if (!document.is_array()) throw FileFormatError(annotations_json, "expected a JSON list of RedCaps annotations");
  MetadataIndexBuilder builder("redcaps");
  for (const auto& annotation : document) {
    try {
      const std::string key = annotation.at("subreddit").get<std::string>() + "/" +
                              annotation.at("image_id").get<std::string>() + ".jpg";
      const std::string caption = annotation.at("caption").get<std::string>();
      builder.add(key, {caption});
    } catch (const nlohmann::json::exception& e) {
      throw FileFormatError(annotations_json,
                            "annotation " + std::to_string(builder.size()) + " lacks string image_id, subreddit, caption: " + e.what());
    }
  }
  return builder.build();
}

MetadataIndex csv_metadata(const std::string& path, const CsvColumns& columns) {
  const char separator = columns.separator == '\0' ? ',' : columns.separator;
  MetadataIndexBuilder builder(separator == '\t' ? "tsv" : "csv");
  size_t image = 0, caption = 0;
  auto find_column = [&](const std::vector<std::string>& header, const std::string& name, const char* flag) {
    for (size_t i = 0; i < header.size(); ++i) {
      if (header[i] == name) return i;
    }
    std::string found;
    for (const auto& column : header) found += (found.empty() ? "" : ", ") + column;
    throw FileFormatError(path, std::string("no column '") + name + "' (" + flag + "); the header has: " + found);
  };
  read_delimited_text(
      path, separator,
      [&](const std::vector<std::string>& header) {
        image = find_column(header, columns.image_column, "--csv-img-key");
        caption = find_column(header, columns.caption_column, "--csv-caption-key");
      },
      [&](const std::vector<std::string>& fields, int64_t line) {
        if (fields.size() <= std::max(image, caption)) {
          throw FileFormatError(path, "line " + std::to_string(line) + ": " + std::to_string(fields.size()) +
                                          " fields, fewer than the header's columns");
        }
        builder.add(fields[image], {fields[caption]});
      });
  return builder.build();
}

MetadataIndex yfcc100m_metadata(const std::string& dataset_txt, const std::string& subset_tsv) {
  std::unordered_set<int64_t> subset;
  auto leading_id = [](const std::string& line, int64_t& id) {
    id = 0;
    size_t i = 0;
    while (i < line.size() && (line[i] == ' ' || line[i] == '\r')) ++i;
    const size_t start = i;
    for (; i < line.size() && line[i] >= '0' && line[i] <= '9' && i - start < 18; ++i) id = id * 10 + (line[i] - '0');
    return i > start && (i == line.size() || line[i] == '\t');
  };
  {
    std::ifstream in(subset_tsv);
    if (!in) throw FileFormatError(subset_tsv, "cannot open the YFCC100M subset list");
    std::string line;
    int64_t id = 0;
    while (std::getline(in, line)) {
      if (leading_id(line, id)) subset.insert(id);
    }
  }
  std::ifstream in(dataset_txt);
  if (!in) throw FileFormatError(dataset_txt, "cannot open yfcc100m_dataset.txt");
  MetadataIndexBuilder builder("yfcc15m");
  std::string line;
  int64_t number = 0, id = 0;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!leading_id(line, id) || subset.count(id) == 0) continue;
    std::vector<std::string> fields{""};
    for (char c : line) {
      if (c == '\t') fields.emplace_back(); else fields.back() += c;
    }
    if (fields.size() < 10) {
      throw FileFormatError(dataset_txt, "line " + std::to_string(number) + ": fewer than 10 tab-separated fields");
    }
    const std::string title = clean_yfcc_caption(fields[8]), description = clean_yfcc_caption(fields[9]);
    builder.add(std::to_string(id), {title, description});
  }
  return builder.build();
}

MetadataIndex json_lines_metadata(std::istream& in, const std::string& corpus, const std::string& source) {
  MetadataIndexBuilder builder(corpus);
  std::string line;
  int64_t number = 0;
  while (std::getline(in, line)) add_json_line(builder, line, source, ++number);
  return builder.build();
}

MetadataIndex export_python_metadata(const std::string& corpus, const std::string& path, const std::string& python) {
  if (corpus != "yfcc15m" && corpus != "cc3m" && corpus != "cc12m") {
    throw ConfigError("--dataset: metadata of '" + corpus + "' is read directly; only yfcc15m, cc3m, cc12m go through Python");
  }
  (void)file_size(path);  // a clear error for a missing file before Python starts
  char script_path[] = "/tmp/slipstream_export_metadata_XXXXXX";
  const int fd = mkstemp(script_path);
  if (fd < 0) throw ConfigError("cannot create a temporary file for the metadata export script");
  const size_t length = std::strlen(kExportMetadataScript);
  const bool written = ::write(fd, kExportMetadataScript, length) == static_cast<ssize_t>(length);
  ::close(fd);
  struct Cleanup {
    const char* path;
    ~Cleanup() { ::unlink(path); }
  } cleanup{script_path};
  if (!written) throw ConfigError("cannot write the metadata export script to /tmp");
  const std::string command = shell_quote(python) + " " + shell_quote(script_path) + " " + corpus + " " + shell_quote(path);
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) throw ConfigError("--python: cannot run " + python);
  MetadataIndexBuilder builder(corpus);
  char* buffer = nullptr;
  size_t capacity = 0;
  int64_t number = 0;
  try {
    ssize_t got;
    while ((got = ::getline(&buffer, &capacity, pipe)) > 0) {
      std::string line(buffer, static_cast<size_t>(got));
      if (line.back() == '\n') line.pop_back();
      add_json_line(builder, line, python + " export of " + path, ++number);
    }
  } catch (...) {
    std::free(buffer);
    ::pclose(pipe);
    throw;
  }
  std::free(buffer);
  const int status = ::pclose(pipe);
  if (status != 0) {
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : status;
    throw FileFormatError(path, "the Python export (" + python + ") failed with exit code " + std::to_string(code) +
                                    "; its message is above");
  }
  return builder.build();
}

MetadataIndex convert_corpus_metadata(const std::string& corpus, const std::string& path, const std::string& python,
                                      const std::string& yfcc_subset, const CsvColumns& columns) {
  check_caption_corpus_name(corpus);
  if (!yfcc_subset.empty()) {
    if (corpus != "yfcc15m") throw ConfigError("--subset applies to yfcc15m only");
    return yfcc100m_metadata(path, yfcc_subset);
  }
  if (has_suffix(path, ".pkl") || has_suffix(path, ".npy")) return export_python_metadata(corpus, path, python);
  return load_corpus_metadata(corpus, path, columns);
}

MetadataIndex load_corpus_metadata(const std::string& corpus, const std::string& path, const CsvColumns& columns) {
  check_caption_corpus_name(corpus);
  if (path.empty()) throw ConfigError("--metadata: " + corpus + " needs a metadata file");
  const std::string head = read_file_range(path, 0, std::min<uint64_t>(8, file_size(path)));
  if (head == "SLIPIDX1") {
    MetadataIndex index = MetadataIndex::open(path);
    const bool tabular = corpus == "csv" || corpus == "tsv";
    const bool tabular_index = index.corpus() == "csv" || index.corpus() == "tsv";
    if (index.corpus() != corpus && !(tabular && tabular_index)) {
      throw ConfigError("--metadata: " + path + " indexes " + index.corpus() + ", not " + corpus);
    }
    return index;
  }
  if (corpus == "coco") return coco_metadata(path);
  if (corpus == "redcaps") return redcaps_metadata(path);
  if (corpus == "csv" || corpus == "tsv") {
    CsvColumns resolved = columns;
    if (resolved.separator == '\0') resolved.separator = corpus == "tsv" ? '\t' : ',';
    return csv_metadata(path, resolved);
  }
  const std::string what = has_suffix(path, ".pkl") ? "a Python pickle" : has_suffix(path, ".npy") ? "a numpy object array"
                                                                                                     : "not a slipstream index";
  throw ConfigError("--metadata: " + path + " is " + what + "; convert it once with `slip_tools index --dataset " + corpus +
                    " --metadata " + path + " --output " + corpus + ".idx` and pass --metadata " + corpus + ".idx");
}

}  // namespace slipstream
