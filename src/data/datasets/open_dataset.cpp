#include "slipstream/data/datasets/open_dataset.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

#include "slipstream/core/error.h"
#include "slipstream/data/datasets/caption_corpus.h"
#include "slipstream/data/datasets/labelled_datasets.h"
#include "slipstream/data/datasets/synthetic_dataset.h"
#include "slipstream/data/datasets/webdataset.h"

namespace slipstream {
namespace fs = std::filesystem;

DatasetPtr open_dataset(const DatasetOptions& options) {
  const std::string& name = options.dataset;
  auto require_root = [&]() {
    if (options.root.empty()) throw ConfigError("--root: dataset '" + name + "' needs its folder");
    if (!fs::exists(options.root)) throw ConfigError("--root: " + options.root + " does not exist");
  };
  if (name == "synthetic") return std::make_shared<SyntheticDataset>(options.synthetic_size, options.synthetic_image_size);
  if (name == "webdataset") {
    // --root names the shards when given (SLIP's default --metadata, yfcc15m.pkl, is then no pattern).
    const std::string& shards = options.root.empty() ? options.metadata : options.root;
    if (shards.empty()) throw ConfigError("--root/--metadata: webdataset needs a shard pattern such as shards/{00000..00099}.tar");
    return std::make_shared<WebDataset>(shards);
  }
  if (name == "yfcc15m" || name == "cc3m" || name == "cc12m" || name == "coco" || name == "redcaps" || name == "csv" ||
      name == "tsv") {
    if (name != "csv" && name != "tsv") require_root();
    return std::make_shared<CaptionCorpusDataset>(load_corpus_metadata(name, options.metadata, options.csv), options.root);
  }
  const std::string split = options.split.empty() ? (options.train ? "train" : "test") : options.split;
  if (name == "imagefolder") {
    require_root();
    return open_image_folder(options.split.empty() ? options.root : (fs::path(options.root) / options.split).string());
  }
  if (name == "filelist") {
    require_root();
    return open_file_list(options.root, split);
  }
  if (name == "cifar10") return (require_root(), open_cifar10(options.root, options.train));
  if (name == "cifar100") return (require_root(), open_cifar100(options.root, options.train));
  if (name == "mnist") return (require_root(), open_mnist(options.root, options.train));
  if (name == "stl10") return (require_root(), open_stl10(options.root, options.train));
  throw ConfigError("--dataset: unknown dataset '" + name +
                    "' (yfcc15m, cc3m, cc12m, coco, redcaps, csv, tsv, webdataset, synthetic, imagefolder, filelist, "
                    "cifar10, cifar100, mnist, stl10)");
}

DatasetPtr open_catalog_dataset(const std::string& catalog_json, const std::string& name, bool train) {
  std::ifstream in(catalog_json);
  if (!in) throw ConfigError("--catalog: cannot open " + catalog_json);
  nlohmann::json catalog;
  try {
    catalog = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw FileFormatError(catalog_json, std::string("invalid JSON: ") + e.what());
  }
  if (!catalog.contains(name)) throw ConfigError("dataset '" + name + "' is not in the catalog " + catalog_json);
  const nlohmann::json& entry = catalog[name];
  const std::string type = entry.value("type", ""), root = entry.value("path", "");
  const std::string split = entry.value(train ? "train" : "test", "");
  DatasetOptions options;
  options.root = root;
  options.train = train;
  if (type == "imagefolder") {
    options.dataset = "imagefolder";
    options.split = split;
  } else if (type == "filelist") {
    return open_file_list(root, split, name, name == "clevr_counts" ? slip_clevr_count_classes() : std::vector<std::string>{});
  } else if (type == "special") {
    options.dataset = name;  // cifar10, cifar100, mnist, stl10
  } else {
    throw FileFormatError(catalog_json, "dataset '" + name + "' has unknown type '" + type + "'");
  }
  return open_dataset(options);
}

}  // namespace slipstream
