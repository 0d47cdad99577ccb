#include "slipstream/tools/demo_corpus.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <exception>
#include <functional>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "slipstream/core/atomic_file.h"
#include "slipstream/core/error.h"
#include "slipstream/data/image/augmentation.h"
#include "slipstream/data/formats/tar_writer.h"

namespace slipstream {
namespace {

namespace fs = std::filesystem;

struct Rgb {
  int r, g, b;
};
const Rgb kColourValues[] = {{220, 40, 40},  {40, 170, 60},  {40, 80, 220},   {235, 215, 40},
                             {140, 60, 190}, {245, 140, 30}, {40, 200, 210}, {240, 120, 180}};
struct Background {
  const char* name;
  int level;
};
const Background kBackgrounds[] = {{"grey", 128}, {"black", 25}, {"white", 232}, {"dark grey", 70}, {"light grey", 190}};

constexpr int kSuperSampling = 4;  // shapes and letters are drawn at 4x and area-averaged down

// The sample streams of sample_rng(seed, split, index, 0).
constexpr uint64_t kTrainSplit = 1, kHeldOutSplit = 2, kProbeSplit = 3;

double uniform(std::mt19937_64& rng, double low, double high) {
  return std::uniform_real_distribution<double>(low, high)(rng);
}
int pick(std::mt19937_64& rng, int count) { return std::uniform_int_distribution<int>(0, count - 1)(rng); }

// The outline of a shape of radius 1 around the origin, before rotation.
std::vector<cv::Point2d> unit_outline(const std::string& shape) {
  std::vector<cv::Point2d> points;
  const auto regular = [&](int corners, double start_degrees, double inner = 0.0) {
    const int n = inner > 0.0 ? corners * 2 : corners;
    for (int i = 0; i < n; ++i) {
      const double angle = (start_degrees + 360.0 * i / n) * M_PI / 180.0;
      const double radius = (inner > 0.0 && i % 2 == 1) ? inner : 1.0;
      points.emplace_back(radius * std::cos(angle), radius * std::sin(angle));
    }
  };
  if (shape == "square") regular(4, 45.0);
  if (shape == "triangle") regular(3, -90.0);
  if (shape == "star") regular(5, -90.0, 0.45);
  if (shape == "diamond") points = {{0, -1}, {0.55, 0}, {0, 1}, {-0.55, 0}};
  if (shape == "cross") {
    const double w = 0.33;
    points = {{-w, -1}, {w, -1}, {w, -w}, {1, -w}, {1, w}, {w, w}, {w, 1}, {-w, 1}, {-w, w}, {-1, w}, {-1, -w}, {-w, -w}};
  }
  if (shape == "heart") {
    for (int i = 0; i < 48; ++i) {
      const double t = 2.0 * M_PI * i / 48;
      const double x = 16 * std::pow(std::sin(t), 3);
      const double y = 13 * std::cos(t) - 5 * std::cos(2 * t) - 2 * std::cos(3 * t) - std::cos(4 * t);
      points.emplace_back(x / 17.0, -(y + 2.5) / 17.0);
    }
  }
  return points;
}

std::string with_articles(const std::string& text) {
  // "a orange" -> "an orange", "a image" is never produced; only the article before a vowel changes.
  std::string out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find(' ', start);
    if (end == std::string::npos) end = text.size();
    const std::string word = text.substr(start, end - start);
    const bool next_vowel = end + 1 < text.size() && std::string("aeiou").find(text[end + 1]) != std::string::npos;
    out += (word == "a" && next_vowel) ? "an" : word;
    if (end < text.size()) out += ' ';
    start = end + 1;
  }
  return out;
}

// `shape` is the object as captions name it: "triangle", or "letter G".
std::string caption_for(const std::string& shape, const std::string& colour, const std::string& size,
                        const std::string& background, std::mt19937_64& rng) {
  const std::string sized = size.empty() ? "" : size + " ";
  switch (pick(rng, 10)) {
    case 0: return with_articles("a " + sized + colour + " " + shape + " on a " + background + " background");
    case 1: return "photo of a " + shape + ", " + colour;
    case 2: return with_articles("a " + sized + colour + " " + shape);
    case 3: return colour + " " + shape;
    case 4: return with_articles("a picture of a " + sized + shape + " coloured " + colour);
    case 5: return with_articles("a " + shape + " in " + colour + " on " + background);
    case 6: return with_articles("there is a " + colour + " " + shape + " in the image");
    case 7: return shape + ", " + colour + ", " + background + " background";
    case 8: return with_articles("an image of a " + sized + colour + " " + shape);
    default: return "the " + shape + " is " + colour;
  }
}

std::string encode_jpeg(const Image& image) {
  const cv::Mat rgb(static_cast<int>(image.size(0)), static_cast<int>(image.size(1)), CV_8UC3, image.data_ptr<uint8_t>());
  cv::Mat bgr;
  cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
  std::vector<uchar> bytes;
  cv::imencode(".jpg", bgr, bytes, {cv::IMWRITE_JPEG_QUALITY, 92});
  return std::string(bytes.begin(), bytes.end());
}

void write_bytes(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw FileFormatError(path.string(), "cannot write");
}

// Runs body(i) for i in [0, count) on `threads` threads; the first exception is rethrown.
void parallel_for(int64_t count, int threads, const std::function<void(int64_t)>& body) {
  std::atomic<int64_t> next{0};
  std::exception_ptr error;
  std::mutex error_mutex;
  std::vector<std::thread> pool;
  for (int t = 0; t < std::max(1, threads); ++t) {
    pool.emplace_back([&] {
      for (int64_t i = next++; i < count; i = next++) {
        try {
          body(i);
        } catch (...) {
          std::lock_guard<std::mutex> lock(error_mutex);
          if (!error) error = std::current_exception();
          next = count;
        }
      }
    });
  }
  for (std::thread& thread : pool) thread.join();
  if (error) std::rethrow_exception(error);
}

std::string class_folder(int index, const std::string& name) {
  char prefix[8];
  std::snprintf(prefix, sizeof(prefix), "%02d_", index);
  std::string folder = prefix + name;
  std::replace(folder.begin(), folder.end(), ' ', '_');
  return folder;
}

}  // namespace

const std::vector<std::string>& demo_shapes() {
  static const std::vector<std::string> shapes = {"circle", "square", "triangle", "star",
                                                  "cross",  "diamond", "ring",   "heart"};
  return shapes;
}

const std::vector<std::string>& demo_letters() {
  // No A or I (the tokenizer lowercases, and "a" and "i" are words); none that a turn of 30 degrees
  // or a mirror makes into another of the set.
  static const std::vector<std::string> letters = {"letter B", "letter E", "letter G", "letter K",
                                                   "letter M", "letter R", "letter S", "letter X"};
  return letters;
}

const std::vector<std::string>& demo_objects(const std::string& kind) {
  if (kind == "shapes") return demo_shapes();
  if (kind == "letters") return demo_letters();
  throw ConfigError("--kind '" + kind + "': expected shapes or letters");
}

const std::vector<std::string>& demo_colours() {
  static const std::vector<std::string> colours = {"red", "green", "blue", "yellow", "purple", "orange", "cyan", "pink"};
  return colours;
}

int demo_held_out_colour(int shape) { return (3 * shape + 1) % 8; }

namespace {

// A filled shape of `radius` around `centre`, turned by `rotation` radians (no random draws).
void draw_shape(cv::Mat& picture, const std::string& shape_name, const cv::Point2d& centre, double radius,
                double rotation, const cv::Scalar& fill) {
  if (shape_name == "circle") {
    cv::circle(picture, centre, static_cast<int>(radius), fill, cv::FILLED, cv::LINE_AA);
  } else if (shape_name == "ring") {
    cv::circle(picture, centre, static_cast<int>(radius * 0.84), fill, static_cast<int>(radius * 0.32), cv::LINE_AA);
  } else {
    std::vector<cv::Point> polygon;
    for (const cv::Point2d& p : unit_outline(shape_name)) {
      const double x = p.x * std::cos(rotation) - p.y * std::sin(rotation);
      const double y = p.x * std::sin(rotation) + p.y * std::cos(rotation);
      polygon.emplace_back(static_cast<int>(std::lround(centre.x + radius * x)), static_cast<int>(std::lround(centre.y + radius * y)));
    }
    cv::fillPoly(picture, std::vector<std::vector<cv::Point>>{polygon}, fill, cv::LINE_AA);
  }
}

// One capital letter in one of OpenCV's Hershey fonts (upright or italic, a random stroke width),
// its cap height 1.6 x `radius`, centred on `centre` and turned by `rotation` radians.
void draw_letter(cv::Mat& picture, char letter, const cv::Point2d& centre, double radius, double rotation,
                 const cv::Scalar& fill, std::mt19937_64& rng) {
  static const int kFaces[] = {cv::FONT_HERSHEY_SIMPLEX, cv::FONT_HERSHEY_DUPLEX, cv::FONT_HERSHEY_COMPLEX,
                               cv::FONT_HERSHEY_TRIPLEX, cv::FONT_HERSHEY_PLAIN};
  const int face = kFaces[pick(rng, 5)] | (pick(rng, 3) == 0 ? cv::FONT_ITALIC : 0);
  const std::string text(1, letter);
  int baseline = 0;
  const cv::Size unit = cv::getTextSize(text, face, 1.0, 1, &baseline);
  const double font_scale = 1.6 * radius / std::max(1, unit.height);
  const int thickness = std::max(1, static_cast<int>(std::lround(radius * uniform(rng, 0.12, 0.26))));
  const cv::Size box = cv::getTextSize(text, face, font_scale, thickness, &baseline);
  // Drawn upright into a mask, turned about the letter's centre, then painted through the mask.
  cv::Mat mask = cv::Mat::zeros(picture.size(), CV_8UC1);
  const cv::Point origin(static_cast<int>(std::lround(centre.x - box.width / 2.0)),
                         static_cast<int>(std::lround(centre.y + box.height / 2.0)));
  cv::putText(mask, text, origin, face, font_scale, cv::Scalar(255), thickness, cv::LINE_AA);
  const cv::Mat turn = cv::getRotationMatrix2D(centre, rotation * 180.0 / M_PI, 1.0);
  cv::Mat turned;
  cv::warpAffine(mask, turned, turn, mask.size(), cv::INTER_LINEAR, cv::BORDER_CONSTANT, cv::Scalar(0));
  for (int y = 0; y < picture.rows; ++y) {
    auto* row = picture.ptr<cv::Vec3b>(y);
    const uint8_t* alpha = turned.ptr<uint8_t>(y);
    for (int x = 0; x < picture.cols; ++x) {
      if (alpha[x] == 0) continue;
      const double a = alpha[x] / 255.0;
      for (int c = 0; c < 3; ++c) row[x][c] = cv::saturate_cast<uint8_t>(row[x][c] * (1.0 - a) + fill[c] * a);
    }
  }
}

}  // namespace

DemoSample render_demo_sample(const std::string& kind, int object, int colour, int64_t size, std::mt19937_64& rng) {
  const std::string& object_name = demo_objects(kind).at(static_cast<size_t>(object));
  const Rgb base = kColourValues[colour];
  const int canvas = static_cast<int>(size) * kSuperSampling;
  const Background& background = kBackgrounds[pick(rng, 5)];
  const auto tint = [&](int level) { return std::clamp(level + static_cast<int>(uniform(rng, -10, 10)), 0, 255); };
  cv::Mat picture(canvas, canvas, CV_8UC3,
                  cv::Scalar(tint(background.level), tint(background.level), tint(background.level)));  // RGB order

  // Neutral distractors under the object: dots and thin lines, far enough from the background's level.
  const int distractors = pick(rng, 4);
  for (int d = 0; d < distractors; ++d) {
    const int level = background.level < 128 ? background.level + 60 + pick(rng, 60) : background.level - 60 - pick(rng, 60);
    const cv::Scalar grey(level, level, level);
    const cv::Point a(pick(rng, canvas), pick(rng, canvas));
    if (pick(rng, 2) == 0) {
      cv::circle(picture, a, static_cast<int>(canvas * uniform(rng, 0.015, 0.045)), grey, cv::FILLED, cv::LINE_AA);
    } else {
      const double angle = uniform(rng, 0, 2 * M_PI), length = canvas * uniform(rng, 0.1, 0.3);
      const cv::Point b(a.x + static_cast<int>(length * std::cos(angle)), a.y + static_cast<int>(length * std::sin(angle)));
      cv::line(picture, a, b, grey, std::max(1, static_cast<int>(canvas * 0.015)), cv::LINE_AA);
    }
  }

  // The object: radius, centre, rotation (letters turn at most 30 degrees) and a jittered colour.
  const double radius = canvas * uniform(rng, 0.16, 0.34);
  const cv::Point2d centre(uniform(rng, radius * 0.9, canvas - radius * 0.9), uniform(rng, radius * 0.9, canvas - radius * 0.9));
  const double rotation = kind == "letters" ? uniform(rng, -M_PI / 6, M_PI / 6) : uniform(rng, 0, 2 * M_PI);
  const auto jitter = [&](int value) { return std::clamp(value + static_cast<int>(uniform(rng, -18, 18)), 0, 255); };
  const cv::Scalar fill(jitter(base.r), jitter(base.g), jitter(base.b));
  if (kind == "letters") {
    draw_letter(picture, object_name.back(), centre, radius, rotation, fill, rng);
  } else {
    draw_shape(picture, object_name, centre, radius, rotation, fill);
  }
  cv::Mat small;
  cv::resize(picture, small, cv::Size(static_cast<int>(size), static_cast<int>(size)), 0, 0, cv::INTER_AREA);

  // Sensor-like noise.
  DemoSample sample;
  sample.image = at::empty({size, size, 3}, at::kByte);  // [S, S, 3] RGB
  uint8_t* out = sample.image.data_ptr<uint8_t>();
  std::normal_distribution<double> noise(0.0, 4.0);
  for (int64_t i = 0; i < size * size * 3; ++i) {
    out[i] = static_cast<uint8_t>(std::clamp(static_cast<int>(std::lround(small.data[i] + noise(rng))), 0, 255));
  }
  const double share = radius / canvas;
  const std::string size_word = share < 0.21 ? (pick(rng, 2) ? "small" : "tiny") : share > 0.29 ? (pick(rng, 2) ? "large" : "big") : "";
  sample.caption = caption_for(object_name, demo_colours()[colour], size_word, background.name, rng);
  sample.shape = object;
  sample.colour = colour;
  return sample;
}

DemoCorpusReport write_demo_corpus(const DemoCorpusOptions& options) {
  if (options.output.empty()) throw ConfigError("--output: a folder is required");
  demo_objects(options.kind);  // throws for an unknown kind
  if (options.train_samples <= 0) throw ConfigError("--train-samples must be positive");
  if (options.held_out_per_combination <= 0) throw ConfigError("--held-out-per-combination must be positive");
  if (options.probe_train_per_class <= 0) throw ConfigError("--probe-train-per-class must be positive");
  if (options.image_size < 16 || options.image_size > 1024) throw ConfigError("--image-size must be in [16, 1024]");
  if (options.shard_size <= 0) throw ConfigError("--shard-size must be positive");
  const fs::path root = fs::absolute(options.output);
  const int threads = options.threads > 0 ? options.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  for (const char* folder : {"images/train", "shards", "held_out"}) fs::create_directories(root / folder);
  const std::vector<std::string>& shapes = demo_objects(options.kind);  // the shapes or the letters
  const std::vector<std::string>& colours = demo_colours();
  const std::string& kind = options.kind;

  // Training: the 56 combinations that are not held out, uniformly.
  std::vector<std::pair<int, int>> seen;
  for (int s = 0; s < 8; ++s) {
    for (int c = 0; c < 8; ++c) {
      if (c != demo_held_out_colour(s)) seen.emplace_back(s, c);
    }
  }
  DemoCorpusReport report;
  report.train_samples = options.train_samples;
  const int64_t shard_count = (options.train_samples + options.shard_size - 1) / options.shard_size;
  std::vector<std::string> captions(static_cast<size_t>(options.train_samples));
  parallel_for(shard_count, threads, [&](int64_t shard) {
    char name[32];
    std::snprintf(name, sizeof(name), "train-%05lld.tar", static_cast<long long>(shard));
    TarWriter tar((root / "shards" / name).string());
    const int64_t end = std::min(options.train_samples, (shard + 1) * options.shard_size);
    for (int64_t i = shard * options.shard_size; i < end; ++i) {
      std::mt19937_64 rng = sample_rng(options.seed, kTrainSplit, static_cast<uint64_t>(i), 0);
      const auto [shape, colour] = seen[static_cast<size_t>(pick(rng, static_cast<int>(seen.size())))];
      const DemoSample sample = render_demo_sample(kind, shape, colour, options.image_size, rng);
      char key[16];
      std::snprintf(key, sizeof(key), "%06lld", static_cast<long long>(i));
      const std::string jpeg = encode_jpeg(sample.image);
      write_bytes(root / "images" / "train" / (std::string(key) + ".jpg"), jpeg);
      tar.add(std::string(key) + ".jpg", jpeg);
      tar.add(std::string(key) + ".txt", sample.caption);
      captions[static_cast<size_t>(i)] = sample.caption;
    }
    tar.finish();
  });
  for (int64_t shard = 0; shard < shard_count; ++shard) {
    char name[32];
    std::snprintf(name, sizeof(name), "train-%05lld.tar", static_cast<long long>(shard));
    report.shards.push_back((root / "shards" / name).string());
  }
  char pattern[64];
  std::snprintf(pattern, sizeof(pattern), "train-{%05d..%05lld}.tar", 0, static_cast<long long>(shard_count - 1));
  report.shard_pattern = (root / "shards" / pattern).string();
  std::string csv = "filepath,title\n";
  for (int64_t i = 0; i < options.train_samples; ++i) {
    char path[48];
    std::snprintf(path, sizeof(path), "images/train/%06lld.jpg", static_cast<long long>(i));
    std::string title = captions[static_cast<size_t>(i)];
    if (title.find_first_of(",\"") != std::string::npos) {  // quoted as Python's csv module does
      std::string quoted = "\"";
      for (char c : title) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
      title = quoted + "\"";
    }
    csv += std::string(path) + "," + title + "\n";
  }
  write_file_atomically((root / "train.csv").string(), csv);

  // The labelled splits: test = the held-out combinations, train = seen ones (for linear probes),
  // each image written under its shape class and its colour class.
  const auto write_labelled = [&](const std::string& split, uint64_t stream, int64_t count,
                                  const std::function<std::pair<int, int>(int64_t, std::mt19937_64&)>& combination) {
    for (int k = 0; k < 8; ++k) {
      fs::create_directories(root / "held_out" / kind / split / class_folder(k, shapes[k]));
      fs::create_directories(root / "held_out" / "colours" / split / class_folder(k, colours[k]));
    }
    parallel_for(count, threads, [&](int64_t i) {
      std::mt19937_64 rng = sample_rng(options.seed, stream, static_cast<uint64_t>(i), 0);
      const auto [shape, colour] = combination(i, rng);
      const DemoSample sample = render_demo_sample(kind, shape, colour, options.image_size, rng);
      const std::string jpeg = encode_jpeg(sample.image);
      char file[24];
      std::snprintf(file, sizeof(file), "%06lld.jpg", static_cast<long long>(i));
      write_bytes(root / "held_out" / kind / split / class_folder(shape, shapes[shape]) / file, jpeg);
      write_bytes(root / "held_out" / "colours" / split / class_folder(colour, colours[colour]) / file, jpeg);
    });
  };
  const int64_t per = options.held_out_per_combination;
  write_labelled("test", kHeldOutSplit, 8 * per, [&](int64_t i, std::mt19937_64&) {
    const int shape = static_cast<int>(i / per);
    return std::make_pair(shape, demo_held_out_colour(shape));
  });
  write_labelled("train", kProbeSplit, 8 * options.probe_train_per_class, [&](int64_t i, std::mt19937_64&) {
    const int shape = static_cast<int>(i % 8);
    int colour = static_cast<int>((i / 8 + 2 * shape) % 8);
    if (colour == demo_held_out_colour(shape)) colour = (colour + 1) % 8;
    return std::make_pair(shape, colour);
  });
  report.held_out_samples = 8 * per;

  // SLIP's catalog, labels and templates for the two labellings. The prompts average over the other
  // attribute ("a red {}", "a green {}" ... for shapes), as the captions name both.
  nlohmann::ordered_json catalog, labels, templates, held_out = nlohmann::ordered_json::array();
  for (const std::string& name : {kind, std::string("colours")}) {
    catalog[std::string("demo_") + name] = {{"path", (root / "held_out" / name).string()},
                                            {"type", "imagefolder"}, {"train", "train"}, {"test", "test"}};
  }
  labels["demo_" + kind] = shapes;
  labels["demo_colours"] = colours;
  std::vector<std::string> shape_prompts = {"a photo of a {}.", "a {}."}, colour_prompts = {"something {}."};
  for (const std::string& colour : colours) shape_prompts.push_back(with_articles("a " + colour + " {}."));
  for (const std::string& shape : shapes) colour_prompts.push_back("the {} " + shape + ".");
  templates["demo_" + kind] = shape_prompts;
  templates["demo_colours"] = colour_prompts;
  const std::string object_key = kind == "letters" ? "letter" : "shape";
  for (int s = 0; s < 8; ++s) held_out.push_back({{object_key, shapes[s]}, {"colour", colours[demo_held_out_colour(s)]}});
  write_file_atomically((root / "dataset_catalog.json").string(), catalog.dump(2) + "\n");
  write_file_atomically((root / "labels.json").string(), labels.dump(2) + "\n");
  write_file_atomically((root / "templates.json").string(), templates.dump(2) + "\n");
  write_file_atomically((root / "held_out.json").string(), held_out.dump(2) + "\n");
  return report;
}

}  // namespace slipstream
