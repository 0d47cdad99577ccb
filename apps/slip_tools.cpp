// slip_tools: the small jobs. `slip_tools models` lists every registered model with its
// parameter count per tower; `slip_tools config NAME` prints a model's JSON config;
// `slip_tools info` prints what this build was compiled with; `slip_tools tokenize` prints CLIP
// (or SentencePiece) token ids of text lines; `slip_tools train-tokenizer` trains a SentencePiece model;
// `slip_tools index` converts a corpus's metadata into a memory-mapped index; `slip_tools preview`
// draws samples with their augmented views and captions; `slip_tools make-demo-data` renders the
// demo corpus of coloured shapes; `slip_tools plot-loss` draws training curves from steps.jsonl files;
// `slip_tools export` writes a checkpoint for open_clip, transformers or SLIP's own code;
// `slip_tools embed` writes a model's embeddings of image files and captions.
#include "app_main.h"
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "slipstream/core/build_info.h"
#include "slipstream/core/error.h"
#include "slipstream/models/registry.h"
#ifdef SLIPSTREAM_WITH_DATA
#include "slipstream/data/text/bpe_location.h"
#include "slipstream/data/text/clip_tokenizer.h"
#include "slipstream/data/datasets/corpus_metadata.h"
#include "slipstream/data/datasets/open_dataset.h"
#include "slipstream/data/streaming/sample_stream.h"
#include "slipstream/data/streaming/shard_list.h"
#include "slipstream/core/atomic_file.h"
#endif
#ifdef SLIPSTREAM_WITH_OPENCV
#include "slipstream/tools/demo_corpus.h"
#include "slipstream/tools/loss_plot.h"
#include "slipstream/tools/model_export.h"
#include "slipstream/tools/preview.h"
#include "slipstream/tools/raw_embeddings.h"
#include "slipstream/core/safetensors.h"
#endif
#ifdef SLIPSTREAM_WITH_SENTENCEPIECE
#include "slipstream/data/text/sentencepiece_tokenizer.h"
#endif

namespace {

std::string millions(int64_t count) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.2fM", static_cast<double>(count) / 1e6);
  return text;
}

void list_models(const std::vector<std::string>& names, bool as_json) {
  if (!as_json) {
    std::printf("%-16s %-7s %-16s %10s %10s %10s %10s\n", "model", "family", "vision tower", "vision", "text",
                "heads", "total");
  }
  for (const auto& name : names) {
    const slipstream::ModelConfig config = slipstream::resolve_model_config(name);
    const auto counts = slipstream::count_parameters(*slipstream::create_model(config));
    const std::string tower = config.vision.type == "vit"
                                  ? "ViT " + std::to_string(config.vision.width) + "/" + std::to_string(config.vision.depth) +
                                        "/" + std::to_string(config.vision.heads)
                                  : "ModifiedResNet";
    if (as_json) {
      nlohmann::json row = {{"model", config.name}, {"family", config.family}, {"vision", counts.vision},
                            {"text", counts.text},  {"heads", counts.heads},   {"total", counts.total()}};
      std::cout << row.dump() << "\n" << std::flush;
    } else {
      std::printf("%-16s %-7s %-16s %10s %10s %10s %10s\n", config.name.c_str(), config.family.c_str(), tower.c_str(),
                  millions(counts.vision).c_str(), millions(counts.text).c_str(), millions(counts.heads).c_str(),
                  millions(counts.total()).c_str());
      std::fflush(stdout);
    }
  }
}

#ifdef SLIPSTREAM_WITH_DATA
// Calls `fn(line)` for each line of the files, or of standard input when there are none.
template <typename Fn>
void for_each_line(const std::vector<std::string>& files, Fn fn) {
  std::string line;
  if (files.empty()) {
    while (std::getline(std::cin, line)) fn(line);
    return;
  }
  for (const auto& file : files) {
    std::ifstream in(file);
    if (!in) throw slipstream::FileFormatError(file, "cannot open text file");
    while (std::getline(in, line)) fn(line);
  }
}

// One JSON line per input line: the framed ids (SOT, ids, EOT), truncated, unpadded.
void tokenize_lines(const std::string& bpe_path, const std::string& sentencepiece_model,
                    const std::vector<std::string>& files, int64_t context_length, const std::string& truncate) {
  const slipstream::TruncateMode mode = slipstream::parse_truncate_mode(truncate);
  if (!sentencepiece_model.empty()) {
#ifdef SLIPSTREAM_WITH_SENTENCEPIECE
    const slipstream::SentencePieceTokenizer tokenizer(sentencepiece_model);
    for_each_line(files, [&](const std::string& line) {
      std::cout << nlohmann::json(tokenizer.frame(line, context_length, mode)).dump() << "\n";
    });
    return;
#else
    throw slipstream::ConfigError("--sentencepiece: this build has no sentencepiece (apt-get install libsentencepiece-dev)");
#endif
  }
  const slipstream::ClipTokenizer tokenizer(slipstream::find_clip_bpe(bpe_path).path);
  for_each_line(files, [&](const std::string& line) {
    std::cout << nlohmann::json(tokenizer.frame(line, context_length, mode)).dump() << "\n";
  });
}

// slip_tools index: the corpus's metadata as a slipstream index file, with its size and open time.
// webdataset: every shard streamed through once, its complete samples counted into a sizes.json
// (open_clip's format), which streaming reads beside the shards for the epoch length and the ETA.
void write_shard_sizes(const std::string& pattern, const std::string& output, int threads) {
  const slipstream::ShardList shards = slipstream::parse_shard_list(pattern);
  std::vector<std::string> problems;
  const std::vector<int64_t> counts = slipstream::count_shard_samples(shards, threads, problems);
  slipstream::write_file_atomically(output, slipstream::sizes_json(shards, counts));
  int64_t total = 0;
  for (int64_t count : counts) total += count;
  for (const std::string& problem : problems) std::fprintf(stderr, "[data] %s\n", problem.c_str());
  std::printf("wrote %s: %lld samples in %zu shards%s (--train-num-samples %lld)\n", output.c_str(),
              static_cast<long long>(total), shards.urls.size(),
              problems.empty() ? "" : (", " + std::to_string(problems.size()) + " shards unreadable to the end").c_str(),
              static_cast<long long>(total));
}

void write_metadata_index(const std::string& corpus, const std::string& metadata, const std::string& subset,
                          const std::string& python, const slipstream::CsvColumns& columns, const std::string& output) {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  const slipstream::MetadataIndex index = slipstream::convert_corpus_metadata(corpus, metadata, python, subset, columns);
  index.save(output);
  const double build_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  const auto open_start = Clock::now();
  const slipstream::MetadataIndex reopened = slipstream::MetadataIndex::open(output);
  const double open_ms = std::chrono::duration<double, std::milli>(Clock::now() - open_start).count();
  std::printf("wrote %s: %lld %s entries in %.1f s (opens in %.2f ms)\n", output.c_str(),
              static_cast<long long>(reopened.size()), reopened.corpus().c_str(), build_seconds, open_ms);
}

std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> parts;
  std::stringstream stream(text);
  std::string part;
  while (std::getline(stream, part, ',')) {
    if (!part.empty()) parts.push_back(part);
  }
  return parts;
}
#endif

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"slip_tools: model listing and small jobs for slipstream"};
  app.require_subcommand(1);

  auto* models = app.add_subcommand("models", "List registered models with parameter counts per tower");
  std::vector<std::string> model_names;
  bool as_json = false;
  models->add_option("names", model_names, "Models to list (registered names or .json configs; default: all)");
  models->add_flag("--json", as_json, "One JSON object per line instead of a table");

  auto* config = app.add_subcommand("config", "Print a model's config as JSON (a starting point for a custom shape)");
  std::string config_name;
  config->add_option("name", config_name, "Registered model name or .json config")->required();

  auto* info = app.add_subcommand("info", "Print the LibTorch, CUDA, cuDNN and NCCL this build uses");

#ifdef SLIPSTREAM_WITH_DATA
  auto* tokenize = app.add_subcommand("tokenize", "Print CLIP BPE token ids of each input line as JSON lines");
  std::string bpe_path;
  std::vector<std::string> text_files;
  int64_t context_length = 77;
  std::string truncate = "slip";
  tokenize->add_option("files", text_files, "Text files, one caption per line (default: standard input)");
  tokenize->add_option("--bpe", bpe_path, "CLIP's BPE merges (default: assets/ or open_clip's package)");
  tokenize->add_option("--context-length", context_length, "Tokens per caption")->capture_default_str();
  tokenize->add_option("--truncate", truncate, "slip: keep the first tokens (SLIP); keep-eot: end with EOT (open_clip)")
      ->capture_default_str();
  std::string sentencepiece_model;
  tokenize->add_option("--sentencepiece", sentencepiece_model, "Use this SentencePiece model instead of CLIP's BPE");
#endif
#ifdef SLIPSTREAM_WITH_SENTENCEPIECE
  auto* train_tokenizer = app.add_subcommand("train-tokenizer", "Train a SentencePiece model on caption files");
  slipstream::SentencePieceTrainingOptions training;
  train_tokenizer->add_option("files", training.input_files, "Caption files, one caption per line")->required();
  train_tokenizer->add_option("--model-prefix", training.model_prefix, "Writes PREFIX.model and PREFIX.vocab")
      ->required();
  train_tokenizer->add_option("--vocab-size", training.vocab_size, "Pieces in the model")->capture_default_str();
  train_tokenizer->add_option("--model-type", training.model_type, "unigram, bpe, word or char")->capture_default_str();
  train_tokenizer->add_option("--character-coverage", training.character_coverage, "Share of characters covered")
      ->capture_default_str();
  train_tokenizer->add_option("--input-sentence-size", training.input_sentence_size,
                              "Captions sampled for training (0: all)")->capture_default_str();
  train_tokenizer->add_option("--seed", training.seed, "Sampling seed")->capture_default_str();
#endif

#ifdef SLIPSTREAM_WITH_DATA
  slipstream::DatasetOptions dataset_options;
  auto add_dataset_flags = [&](CLI::App* command) {
    command->add_option("--dataset", dataset_options.dataset,
                        "yfcc15m, cc3m, cc12m, coco, redcaps, csv, tsv, webdataset, synthetic, imagefolder, filelist, "
                        "cifar10, cifar100, mnist, stl10")->required();
    command->add_option("--root", dataset_options.root, "The corpus's image folder (webdataset: the shard pattern)");
    command->add_option("--metadata", dataset_options.metadata, "Metadata file (index, pickle, numpy, JSON, CSV/TSV)");
    command->add_option("--csv-separator", dataset_options.csv.separator, "CSV/TSV field separator (default: ',' or tab)");
    command->add_option("--csv-img-key", dataset_options.csv.image_column, "CSV column of image paths")->capture_default_str();
    command->add_option("--csv-caption-key", dataset_options.csv.caption_column, "CSV column of captions")->capture_default_str();
  };
  auto* stream_command = app.add_subcommand(
      "stream", "Print the samples a rank reads from streamed WebDataset shards, in order (source, tab, caption)");
  std::string stream_root;
  slipstream::SampleStreamOptions stream_options;
  int64_t stream_count = 100, stream_pass = 0;
  stream_command->add_option("--root", stream_root, "The shards: paths, pipe:COMMAND or http(s) URLs; braces, '::'")
      ->required();
  stream_command->add_option("--count", stream_count, "Samples to print")->capture_default_str();
  stream_command->add_option("--seed", stream_options.seed)->capture_default_str();
  stream_command->add_option("--rank", stream_options.rank)->capture_default_str();
  stream_command->add_option("--world-size", stream_options.world_size)->capture_default_str();
  stream_command->add_option("--pass", stream_pass, "The pass over the shards to start at")->capture_default_str();
  stream_command->add_option("--shard-readers", stream_options.readers)->capture_default_str();
  stream_command->add_option("--shuffle-buffer", stream_options.shuffle_buffer)->capture_default_str();
  stream_command->add_flag("--dataset-resampled", stream_options.resampled);
  stream_command->add_option("--shard-timeout", stream_options.source.stall_timeout_seconds)->capture_default_str();
  auto* index_command = app.add_subcommand(
      "index", "Convert a corpus's metadata (SLIP's pickle/numpy, COCO/RedCaps JSON, CSV) into a memory-mapped index, "
               "or count a webdataset's samples per shard (sizes.json)");
  add_dataset_flags(index_command);
  std::string index_output, python = "python3", yfcc_subset;
  index_command->add_option("--output", index_output,
                            "The index file to write (webdataset: sizes.json, put beside the shards)")->required();
  int index_threads = 8;
  index_command->add_option("-j,--threads", index_threads, "webdataset: shards read at once")->capture_default_str();
  index_command->add_option("--python", python, "Python (with numpy for .npy) that reads pickles")->capture_default_str();
  index_command->add_option("--subset", yfcc_subset,
                            "yfcc15m from YFCC100M's yfcc100m_dataset.txt: the subset list (yfcc100m_subset_data.tsv); "
                            "captions are cleaned as SLIP's make_dataset.py does");
#endif
#ifdef SLIPSTREAM_WITH_OPENCV
  auto* preview_command = app.add_subcommand("preview", "Write a PNG grid of samples: original, augmented views, caption");
  add_dataset_flags(preview_command);
  std::string preview_views = "clip,simclr,simclr", preview_output = "preview.png";
  int64_t preview_count = 8, preview_first = 0;
  slipstream::PreviewOptions preview_options;
  preview_command->add_option("--views", preview_views, "View recipes, comma separated (clip, simclr, mocov2, eval-zeroshot, eval-linear, linear-train, finetune)")
      ->capture_default_str();
  preview_command->add_option("--count", preview_count, "Samples to show")->capture_default_str();
  preview_command->add_option("--first", preview_first, "First sample index")->capture_default_str();
  preview_command->add_option("--seed", preview_options.seed, "Seed of the augmentations")->capture_default_str();
  preview_command->add_option("--epoch", preview_options.epoch, "Epoch of the augmentations")->capture_default_str();
  preview_command->add_option("--output", preview_output, "PNG to write")->capture_default_str();
  auto* demo_command = app.add_subcommand("make-demo-data",
                                          "Render the demo corpus (coloured shapes or letters with captions, a held-out split)");
  slipstream::DemoCorpusOptions demo_options;
  demo_command->add_option("--output", demo_options.output, "Folder to write")->required();
  demo_command->add_option("--kind", demo_options.kind, "shapes (the quickstart's) or letters (capitals in Hershey fonts)")
      ->capture_default_str();
  demo_command->add_option("--train-samples", demo_options.train_samples, "Training image-caption pairs")->capture_default_str();
  demo_command->add_option("--held-out-per-combination", demo_options.held_out_per_combination,
                           "Test images per held-out object-colour combination")->capture_default_str();
  demo_command->add_option("--probe-train-per-class", demo_options.probe_train_per_class,
                           "Labelled training images per class (for linear probes)")->capture_default_str();
  demo_command->add_option("--image-size", demo_options.image_size, "Image side in pixels")->capture_default_str();
  demo_command->add_option("--shard-size", demo_options.shard_size, "Samples per WebDataset shard")->capture_default_str();
  demo_command->add_option("--seed", demo_options.seed)->capture_default_str();
  demo_command->add_option("-j,--threads", demo_options.threads, "Threads (0: one per core)")->capture_default_str();
  auto* plot_command = app.add_subcommand("plot-loss", "Draw the loss of steps.jsonl files (slip_pretrain's) as a PNG");
  std::vector<std::string> plot_inputs;
  slipstream::LossPlotOptions plot_options;
  plot_command->add_option("inputs", plot_inputs, "steps.jsonl files, or LABEL=FILE")->required();
  plot_command->add_option("--metric", plot_options.metric, "The value plotted")->capture_default_str();
  plot_command->add_option("--output", plot_options.output, "PNG to write")->capture_default_str();
  auto* export_command = app.add_subcommand(
      "export", "Write a checkpoint for open_clip (local-dir:), transformers (CLIPModel) or SLIP's own code");
  slipstream::ExportRequest export_request;
  std::string export_format = "open_clip";
  export_command->add_option("checkpoint", export_request.checkpoint, "Checkpoint folder or link, or .safetensors")->required();
  export_command->add_option("--format", export_format, "open_clip, hf or slip")->capture_default_str();
  export_command->add_option("--output", export_request.output, "Folder to write (a .pt file for slip)")->required();
  export_command->add_option("--model", export_request.model, "Model name or JSON, when the weights do not record theirs");
  export_command->add_option("--bpe", export_request.bpe, "hf: CLIP's BPE merges for the tokenizer files (default: found)");
  export_command->add_option("--python", export_request.python, "slip: a Python with torch and safetensors");
  auto* embed_command = app.add_subcommand("embed", "Write a model's embeddings of image files and captions (safetensors)");
  std::string embed_checkpoint, embed_model, embed_output, embed_bpe;
  std::vector<std::string> embed_images, embed_captions;
  std::string embed_captions_file;
  embed_command->add_option("checkpoint", embed_checkpoint, "Checkpoint folder or link, or .safetensors")->required();
  embed_command->add_option("--model", embed_model, "Model name or JSON, when the weights do not record theirs");
  embed_command->add_option("--images", embed_images, "Image files");
  embed_command->add_option("--captions", embed_captions_file, "Text file, one caption per line");
  embed_command->add_option("--bpe", embed_bpe, "CLIP's BPE merges (default: the checkpoint's, assets/ or open_clip's)");
  embed_command->add_option("--output", embed_output, "safetensors to write: image_embed, text_embed, logit_scale")->required();
#endif

  return slipstream::run_app("slip_tools", app, argc, argv, [&]() -> int {
    if (models->parsed()) {
      list_models(model_names.empty() ? slipstream::registered_models() : model_names, as_json);
    } else if (config->parsed()) {
      std::cout << slipstream::to_json(slipstream::resolve_model_config(config_name)) << "\n";
    } else if (info->parsed()) {
      std::cout << slipstream::describe(slipstream::build_info());
    }
#ifdef SLIPSTREAM_WITH_DATA
    if (stream_command->parsed()) {
      slipstream::SampleStream stream(std::make_shared<const slipstream::ShardList>(slipstream::parse_shard_list(stream_root)),
                                      stream_options);
      stream.start_pass(stream_pass);
      for (int64_t i = 0; i < stream_count; ++i) {
        const slipstream::StreamedSample sample = stream.next();
        std::cout << sample.source << "\t" << sample.caption << "\n";
      }
      const slipstream::StreamCounters counters = stream.counters();
      std::cerr << "shards opened " << counters.shards_opened << ", failed " << counters.shards_failed
                << ", keys without an image or a caption " << counters.incomplete_samples << "\n";
    }
    if (index_command->parsed() && dataset_options.dataset == "webdataset") {
      write_shard_sizes(dataset_options.root.empty() ? dataset_options.metadata : dataset_options.root, index_output,
                        index_threads);
    } else if (index_command->parsed()) {
      write_metadata_index(dataset_options.dataset, dataset_options.metadata, yfcc_subset, python, dataset_options.csv,
                           index_output);
    }
#endif
#ifdef SLIPSTREAM_WITH_OPENCV
    if (preview_command->parsed()) {
      const slipstream::DatasetPtr dataset = slipstream::open_dataset(dataset_options);
      slipstream::PipelineOptions pipeline_options;
      for (const std::string& name : split_commas(preview_views)) pipeline_options.views.push_back(slipstream::parse_view_recipe(name));
      const slipstream::SamplePipeline pipeline(pipeline_options);
      for (int64_t i = preview_first; i < std::min(dataset->size(), preview_first + preview_count); ++i) {
        preview_options.indices.push_back(i);
      }
      const int64_t skipped = slipstream::write_preview(*dataset, pipeline, preview_options, preview_output);
      std::printf("wrote %s: %zu samples of %s%s\n", preview_output.c_str(), preview_options.indices.size() - skipped,
                  dataset->description().c_str(),
                  skipped > 0 ? (", " + std::to_string(skipped) + " unreadable left out").c_str() : "");
    }
    if (demo_command->parsed()) {
      const slipstream::DemoCorpusReport report = slipstream::write_demo_corpus(demo_options);
      std::printf("wrote %s: %lld training pairs (train.csv and %zu WebDataset shards %s), %lld held-out test images "
                  "(dataset_catalog.json: demo_%s, demo_colours)\n",
                  demo_options.output.c_str(), static_cast<long long>(report.train_samples), report.shards.size(),
                  report.shard_pattern.c_str(), static_cast<long long>(report.held_out_samples), demo_options.kind.c_str());
    }
    if (plot_command->parsed()) {
      for (const std::string& input : plot_inputs) {
        const size_t equals = input.find('=');
        plot_options.series.push_back(equals == std::string::npos
                                          ? std::make_pair(input, input)
                                          : std::make_pair(input.substr(0, equals), input.substr(equals + 1)));
      }
      slipstream::write_loss_plot(plot_options);
      std::printf("wrote %s\n", plot_options.output.c_str());
    }
    if (export_command->parsed()) {
      export_request.format = slipstream::parse_export_format(export_format);
      const slipstream::ExportResult result = slipstream::export_model(export_request);
      for (const std::string& note : result.notes) std::printf("note: %s\n", note.c_str());
      for (const std::string& file : result.files) std::printf("wrote %s\n", file.c_str());
    }
    if (embed_command->parsed()) {
      const slipstream::EvaluationModel loaded = slipstream::load_evaluation_model(embed_checkpoint, embed_model);
      if (!embed_captions_file.empty()) {
        for_each_line({embed_captions_file}, [&](const std::string& line) { embed_captions.push_back(line); });
      }
      const std::string bpe = embed_captions.empty()
                                  ? std::string()
                                  : slipstream::find_clip_bpe(embed_bpe, loaded.recorded_bpe).path;
      const slipstream::RawEmbeddings out = slipstream::embed_files(loaded, embed_images, embed_captions, bpe);
      slipstream::save_safetensors(embed_output, {{"image_embed", out.image_embed}, {"text_embed", out.text_embed},
                                                  {"logit_scale", out.logit_scale}},
                                   {{"model", loaded.description}});
      std::printf("wrote %s: %lld image and %lld caption embeddings of %s\n", embed_output.c_str(),
                  static_cast<long long>(out.image_embed.size(0)), static_cast<long long>(out.text_embed.size(0)),
                  loaded.description.c_str());
    }
#endif
#ifdef SLIPSTREAM_WITH_DATA
    if (tokenize->parsed()) tokenize_lines(bpe_path, sentencepiece_model, text_files, context_length, truncate);
#endif
#ifdef SLIPSTREAM_WITH_SENTENCEPIECE
    if (train_tokenizer->parsed()) {
      slipstream::train_sentencepiece(training);
      const slipstream::SentencePieceTokenizer trained(training.model_prefix + ".model");
      std::cout << "wrote " << training.model_prefix << ".model: " << trained.pieces()
                << " pieces; text towers using it need vocab_size " << trained.vocab_size() << "\n";
    }
#endif
    return 0;
  });
}
