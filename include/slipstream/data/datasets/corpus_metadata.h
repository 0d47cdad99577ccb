// Turning each corpus's own metadata into a MetadataIndex. Formats C++ reads directly are loaded
// at start (COCO's captions JSON, RedCaps' combined JSON, open_clip's CSV/TSV, a built index);
// Python pickles and numpy object arrays (SLIP's yfcc15m.pkl, cc3m.npy, cc12m.npy) are exported
// once through Python by `slip_tools index` (scripts/export_metadata.py) into an index file.
#pragma once
#include <istream>
#include <string>

#include "slipstream/data/formats/metadata_index.h"

namespace slipstream {

struct CsvColumns {
  char separator = '\0';  // --csv-separator; '\0': ',' for csv, tab for tsv
  std::string image_column = "filepath";  // --csv-img-key
  std::string caption_column = "title";   // --csv-caption-key
};

// The corpora that have metadata: yfcc15m, cc3m, cc12m, coco, redcaps, csv, tsv. ConfigError otherwise.
void check_caption_corpus_name(const std::string& corpus);

// COCO captions_train2017.json: captions grouped by image id in first-seen order, key train2017/%012d.jpg.
MetadataIndex coco_metadata(const std::string& captions_json);
// RedCaps combined annotations (a JSON list of {image_id, subreddit, caption}), key subreddit/image_id.jpg.
MetadataIndex redcaps_metadata(const std::string& annotations_json);
// open_clip's CSV/TSV: one row per image, key = the image column, one caption.
MetadataIndex csv_metadata(const std::string& path, const CsvColumns& columns);
// YFCC100M's own yfcc100m_dataset.txt (tab-separated, photo id in column 0, title 8, description 9)
// filtered to the photo ids listed in `subset_tsv` (the CLIP subset, id in column 0), captions
// cleaned as SLIP's make_dataset.py does: what SLIP's yfcc15m.pkl holds.
MetadataIndex yfcc100m_metadata(const std::string& dataset_txt, const std::string& subset_tsv);
// JSON lines {"key": "...", "captions": ["...", ...]} (what scripts/export_metadata.py prints).
MetadataIndex json_lines_metadata(std::istream& in, const std::string& corpus, const std::string& source);

// The metadata of `corpus` from `path`: a slipstream index (any corpus), or the formats above.
// A pickle or .npy gives a ConfigError with the `slip_tools index` command that converts it.
MetadataIndex load_corpus_metadata(const std::string& corpus, const std::string& path, const CsvColumns& columns = {});

// What `slip_tools index` converts: YFCC100M's raw metadata when `yfcc_subset` is given, SLIP's
// pickles and numpy arrays (.pkl, .npy) through `python`, and everything else as load_corpus_metadata.
MetadataIndex convert_corpus_metadata(const std::string& corpus, const std::string& path, const std::string& python,
                                      const std::string& yfcc_subset = "", const CsvColumns& columns = {});

// Runs scripts/export_metadata.py (embedded in the library) with `python` on SLIP's pickle or
// numpy metadata and indexes what it prints. Throws ConfigError/FileFormatError with Python's message.
MetadataIndex export_python_metadata(const std::string& corpus, const std::string& path, const std::string& python);

}  // namespace slipstream
