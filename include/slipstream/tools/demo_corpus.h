// A small image-caption corpus rendered on the spot, so pre-training and zero-shot transfer can be
// seen working without a GPU or a download: coloured shapes (8 shapes x 8 colours; kind "shapes",
// the quickstart's) or coloured capital letters in OpenCV's Hershey fonts (8 letters x 8 colours;
// kind "letters", turned at most 30 degrees) at random positions, sizes and rotations on varied
// backgrounds with neutral distractors, each with a caption from varied templates ("a small red
// triangle on a grey background", "photo of a letter G, red"). Eight (object, colour)
// combinations, one per object and one per colour, never occur in training; the held-out split is
// made of them, so a model that classifies it by object or by colour from prompts has transferred
// what it learnt to unseen combinations.
//
// Layout written under the output folder:
//   train.csv                      filepath,title (open_clip's CSV; paths relative to the folder)
//   images/train/NNNNNN.jpg        the training images the CSV names
//   shards/train-NNNNN.tar         the same samples as WebDataset shards (NNNNNN.jpg + NNNNNN.txt)
//   held_out/KIND/{train,test}/    imagefolders labelled by shape or letter (00_circle ..., 00_letter_B ...)
//   held_out/colours/{train,test}/ the same images labelled by colour
//     (test: the held-out combinations; train: training combinations, for linear probes)
//   dataset_catalog.json, labels.json, templates.json   SLIP's formats: demo_KIND, demo_colours
//   held_out.json                  the held-out combinations
#pragma once
#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "slipstream/data/image/image.h"

namespace slipstream {

const std::vector<std::string>& demo_shapes();   // circle square triangle star cross diamond ring heart
const std::vector<std::string>& demo_letters();  // "letter B" E G K M R S X (as captions name them)
const std::vector<std::string>& demo_colours();  // red green blue yellow purple orange cyan pink
// demo_shapes() or demo_letters() for kind "shapes" or "letters"; ConfigError otherwise.
const std::vector<std::string>& demo_objects(const std::string& kind);

// The colour held out with each shape (a permutation, so every colour is held out once).
int demo_held_out_colour(int shape);

struct DemoSample {
  Image image;          // uint8 [size, size, 3]
  std::string caption;
  int shape = 0, colour = 0;  // shape: the object's index (a shape or a letter)
};

// One rendered sample of (object, colour), the object an index into demo_objects(kind); every other
// choice (background, size, position, rotation, font, distractors, caption template) drawn from `rng`.
DemoSample render_demo_sample(const std::string& kind, int object, int colour, int64_t size, std::mt19937_64& rng);

struct DemoCorpusOptions {
  std::string output;                 // folder (created)
  std::string kind = "shapes";        // shapes | letters
  int64_t train_samples = 20000;
  int64_t held_out_per_combination = 50;  // test images per held-out combination
  int64_t probe_train_per_class = 25;     // held_out/*/train images per class
  int64_t image_size = 64;
  int64_t shard_size = 2000;          // samples per WebDataset shard
  uint64_t seed = 0;
  int threads = 0;                    // 0: one per core
};

struct DemoCorpusReport {
  int64_t train_samples = 0, held_out_samples = 0;
  std::vector<std::string> shards;    // paths
  std::string shard_pattern;          // brace pattern of all shards, for --root
};

// Throws ConfigError for bad options, FileFormatError when a file cannot be written.
DemoCorpusReport write_demo_corpus(const DemoCorpusOptions& options);

}  // namespace slipstream
