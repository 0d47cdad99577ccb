// SLIP's pre-training corpora as one reader over a MetadataIndex: each entry's key says where its
// image is, and its captions are the candidates SLIP picks from (YFCC15M: title and description;
// COCO, CC3M, CC12M: every caption; RedCaps, CSV: the one caption).
//   yfcc15m  key = photo index; the image is member NNN.jpg of root/images/NN/NNN.zip (read in place)
//   cc3m, cc12m, coco, redcaps, csv   key = the image's path relative to root (or absolute)
#pragma once
#include <memory>
#include <string>

#include "slipstream/data/datasets/dataset.h"
#include "slipstream/data/formats/metadata_index.h"

namespace slipstream {

class Yfcc15mImages;

class CaptionCorpusDataset : public Dataset {
 public:
  // `metadata.corpus()` selects how keys become images; `root` is the corpus's image folder.
  CaptionCorpusDataset(MetadataIndex metadata, std::string root);
  ~CaptionCorpusDataset() override;

  int64_t size() const override { return metadata_.size(); }
  RawSample get(int64_t index) const override;
  std::string description() const override;
  const MetadataIndex& metadata() const { return metadata_; }

 private:
  MetadataIndex metadata_;
  std::string root_;
  std::unique_ptr<Yfcc15mImages> yfcc_;  // set for yfcc15m
};

}  // namespace slipstream
