// One entry point from command-line settings to a Dataset: SLIP's corpus flags
// (--dataset --root --metadata), open_clip's CSV and WebDataset flags, and SLIP's
// dataset_catalog.json entries for the evaluation datasets.
#pragma once
#include <string>

#include "slipstream/data/datasets/corpus_metadata.h"
#include "slipstream/data/datasets/dataset.h"

namespace slipstream {

struct DatasetOptions {
  std::string dataset;   // yfcc15m cc3m cc12m coco redcaps csv tsv webdataset synthetic imagefolder filelist
                         // cifar10 cifar100 mnist stl10
  std::string root;      // image folder; for webdataset, the shard pattern (or use metadata)
  std::string metadata;  // metadata file (index, pickle-converted, JSON, CSV); shard pattern for webdataset
  CsvColumns csv;
  bool train = true;             // split of the evaluation datasets
  std::string split;             // imagefolder/filelist sub-folder or prefix ("" = root itself / "train"|"test")
  int64_t synthetic_size = 100000;
  int64_t synthetic_image_size = 256;
};

// Throws ConfigError naming the flag for an unknown dataset or a missing required path.
DatasetPtr open_dataset(const DatasetOptions& options);

// SLIP's get_downstream_dataset: the catalog entry `name` (its path, type and train/test
// sub-folders) from dataset_catalog.json. Throws ConfigError when the name is not in the catalog.
DatasetPtr open_catalog_dataset(const std::string& catalog_json, const std::string& name, bool train);

}  // namespace slipstream
