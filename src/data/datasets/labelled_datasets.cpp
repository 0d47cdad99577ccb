#include "slipstream/data/datasets/labelled_datasets.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "slipstream/core/error.h"
#include "slipstream/data/formats/file_bytes.h"
#include "slipstream/data/formats/idx_file.h"
#include "slipstream/data/formats/npy.h"

namespace slipstream {
namespace fs = std::filesystem;
namespace {

// torchvision's IMG_EXTENSIONS, compared case-insensitively.
bool is_image_file(const std::string& name) {
  std::string lower = name;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  for (const char* extension : {".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp"}) {
    const size_t n = std::char_traits<char>::length(extension);
    if (lower.size() >= n && lower.compare(lower.size() - n, n, extension) == 0) return true;
  }
  return false;
}

std::vector<std::string> read_lines(const std::string& path) {
  std::vector<std::string> lines;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

// The first of `candidates` that exists, else FileFormatError listing them.
std::string find_file(const std::vector<std::string>& candidates, const std::string& what) {
  for (const auto& candidate : candidates) {
    if (fs::exists(candidate)) return candidate;
  }
  std::string tried;
  for (const auto& candidate : candidates) tried += (tried.empty() ? "" : ", ") + candidate;
  throw FileFormatError(candidates.front(), what + " not found (looked for " + tried + ")");
}

// Byte records of CIFAR's binary version: `label_bytes` label bytes then a 3x32x32 CHW image.
void read_cifar_records(const std::string& path, int label_bytes, int label_byte, std::vector<at::Tensor>& images,
                        std::vector<int64_t>& labels) {
  const std::string bytes = read_whole_file(path);
  const size_t record = static_cast<size_t>(label_bytes) + 3072;
  if (bytes.empty() || bytes.size() % record != 0) {
    throw FileFormatError(path, "length " + std::to_string(bytes.size()) + " is not a multiple of the " +
                                    std::to_string(record) + "-byte CIFAR record");
  }
  const int64_t count = static_cast<int64_t>(bytes.size() / record);
  at::Tensor chw = at::empty({count, 3, 32, 32}, at::kByte);
  auto* out = chw.data_ptr<uint8_t>();
  for (int64_t i = 0; i < count; ++i) {
    const char* entry = bytes.data() + static_cast<size_t>(i) * record;
    labels.push_back(static_cast<uint8_t>(entry[label_byte]));
    std::memcpy(out + i * 3072, entry + label_bytes, 3072);
  }
  images.push_back(chw.permute({0, 2, 3, 1}));  // [N, 32, 32, 3]
}

std::vector<std::string> optional_class_names(const std::string& path) {
  return fs::exists(path) ? read_lines(path) : std::vector<std::string>{};
}

}  // namespace

LabelledFilesDataset::LabelledFilesDataset(std::string name, std::vector<std::string> paths, std::vector<int64_t> labels,
                                           std::vector<std::string> classes)
    : name_(std::move(name)), paths_(std::move(paths)), labels_(std::move(labels)), classes_(std::move(classes)) {
  if (paths_.size() != labels_.size()) throw FileFormatError(name_, "different numbers of images and labels");
}

RawSample LabelledFilesDataset::get(int64_t index) const {
  RawSample sample;
  sample.source = paths_.at(static_cast<size_t>(index));
  sample.label = labels_[static_cast<size_t>(index)];
  try {
    sample.encoded = read_whole_file(sample.source);
  } catch (const FileFormatError&) {
    throw SampleError(sample.source, "cannot read image file");
  }
  return sample;
}

std::string LabelledFilesDataset::description() const {
  return name_ + ": " + std::to_string(size()) + " images in " + std::to_string(classes_.size()) + " classes";
}

InMemoryImageDataset::InMemoryImageDataset(std::string name, Image images, std::vector<int64_t> labels,
                                           std::vector<std::string> classes)
    : name_(std::move(name)), images_(std::move(images)), labels_(std::move(labels)), classes_(std::move(classes)) {
  if (images_.dim() != 4 || images_.size(3) != 3 || images_.size(0) != static_cast<int64_t>(labels_.size())) {
    throw FileFormatError(name_, "images must be [N, H, W, 3] with one label each");
  }
  images_ = images_.contiguous();
}

RawSample InMemoryImageDataset::get(int64_t index) const {
  RawSample sample;
  sample.image = images_[index].clone();  // uint8 [H, W, 3]
  sample.label = labels_.at(static_cast<size_t>(index));
  sample.source = name_ + "[" + std::to_string(index) + "]";
  return sample;
}

std::string InMemoryImageDataset::description() const {
  return name_ + ": " + std::to_string(size()) + " images " + std::to_string(images_.size(1)) + "x" +
         std::to_string(images_.size(2)) + " in " + std::to_string(classes_.size()) + " classes";
}

std::shared_ptr<LabelledFilesDataset> open_image_folder(const std::string& folder) {
  if (!fs::is_directory(folder)) throw FileFormatError(folder, "image folder not found");
  std::vector<std::string> classes;
  for (const auto& entry : fs::directory_iterator(folder)) {
    if (entry.is_directory()) classes.push_back(entry.path().filename().string());
  }
  std::sort(classes.begin(), classes.end());
  if (classes.empty()) throw FileFormatError(folder, "no class sub-folders");
  std::vector<std::string> paths;
  std::vector<int64_t> labels;
  for (size_t c = 0; c < classes.size(); ++c) {
    // sorted(os.walk(class_dir)) then sorted file names: order by (directory, name).
    std::vector<std::pair<std::string, std::string>> files;
    const fs::path class_dir = fs::path(folder) / classes[c];
    for (const auto& entry : fs::recursive_directory_iterator(class_dir, fs::directory_options::follow_directory_symlink)) {
      const std::string name = entry.path().filename().string();
      if (!entry.is_directory() && is_image_file(name)) files.emplace_back(entry.path().parent_path().string(), name);
    }
    if (files.empty()) throw FileFormatError(class_dir.string(), "class folder holds no image files");
    std::sort(files.begin(), files.end());
    for (const auto& [directory, name] : files) {
      paths.push_back(directory + "/" + name);
      labels.push_back(static_cast<int64_t>(c));
    }
  }
  return std::make_shared<LabelledFilesDataset>("imagefolder " + folder, std::move(paths), std::move(labels), classes);
}

const std::vector<std::string>& slip_clevr_count_classes() {
  static const std::vector<std::string> classes = {"count_10", "count_3", "count_4", "count_5",
                                                   "count_6",  "count_7", "count_8", "count_9"};
  return classes;
}

std::shared_ptr<LabelledFilesDataset> open_file_list(const std::string& root, const std::string& split, const std::string& name,
                                                     const std::vector<std::string>& class_order) {
  const std::string prefix = (fs::path(root) / split).string();
  const NpyArray images = read_npy(prefix + "_images.npy");
  const NpyArray labels = read_npy(prefix + "_labels.npy");
  if (images.strings.size() != static_cast<size_t>(images.size())) throw FileFormatError(prefix + "_images.npy", "expected an array of path strings");
  if (labels.size() != images.size()) {
    throw FileFormatError(prefix + "_labels.npy", std::to_string(labels.size()) + " labels for " +
                                                      std::to_string(images.size()) + " images");
  }
  std::vector<std::string> paths;
  for (const auto& path : images.strings) paths.push_back(fs::path(path).is_absolute() ? path : (fs::path(root) / path).string());
  std::vector<int64_t> indices = labels.integers;
  std::vector<std::string> classes;
  if (!labels.strings.empty()) {
    // Named labels (clevr_counts' "count_10", "count_3", ...): their index in the class order.
    const std::set<std::string> names(labels.strings.begin(), labels.strings.end());
    classes = class_order.empty() ? std::vector<std::string>(names.begin(), names.end()) : class_order;
    for (const auto& label : labels.strings) {
      const auto found = std::find(classes.begin(), classes.end(), label);
      if (found == classes.end()) throw FileFormatError(prefix + "_labels.npy", "label '" + label + "' is not a known class");
      indices.push_back(found - classes.begin());
    }
  } else if (indices.size() != static_cast<size_t>(labels.size())) {
    throw FileFormatError(prefix + "_labels.npy", "expected integer or string labels");
  }
  return std::make_shared<LabelledFilesDataset>(name + " " + prefix, std::move(paths), std::move(indices), classes);
}

std::shared_ptr<InMemoryImageDataset> open_cifar10(const std::string& root, bool train) {
  const std::string folder = find_file({(fs::path(root) / "cifar-10-batches-bin").string(), root}, "CIFAR-10 binary folder");
  std::vector<at::Tensor> images;
  std::vector<int64_t> labels;
  if (train) {
    for (int b = 1; b <= 5; ++b) {
      read_cifar_records((fs::path(folder) / ("data_batch_" + std::to_string(b) + ".bin")).string(), 1, 0, images, labels);
    }
  } else {
    read_cifar_records((fs::path(folder) / "test_batch.bin").string(), 1, 0, images, labels);
  }
  return std::make_shared<InMemoryImageDataset>("cifar10", at::cat(images), std::move(labels),
                                                optional_class_names((fs::path(folder) / "batches.meta.txt").string()));
}

std::shared_ptr<InMemoryImageDataset> open_cifar100(const std::string& root, bool train) {
  const std::string folder = find_file({(fs::path(root) / "cifar-100-binary").string(), root}, "CIFAR-100 binary folder");
  std::vector<at::Tensor> images;
  std::vector<int64_t> labels;
  read_cifar_records((fs::path(folder) / (train ? "train.bin" : "test.bin")).string(), 2, 1, images, labels);
  return std::make_shared<InMemoryImageDataset>("cifar100", at::cat(images), std::move(labels),
                                                optional_class_names((fs::path(folder) / "fine_label_names.txt").string()));
}

std::shared_ptr<InMemoryImageDataset> open_mnist(const std::string& root, bool train) {
  const std::string stem = train ? "train" : "t10k";
  auto locate = [&](const std::string& name) {
    std::vector<std::string> candidates;
    for (const char* folder : {"", "MNIST/raw", "raw"}) {
      for (const char* suffix : {"", ".gz"}) candidates.push_back((fs::path(root) / folder / (name + suffix)).string());
    }
    return find_file(candidates, "MNIST file " + name);
  };
  const std::string images_path = locate(stem + "-images-idx3-ubyte");
  const std::string labels_path = locate(stem + "-labels-idx1-ubyte");
  const IdxArray images = read_idx_ubyte(images_path);
  const IdxArray labels = read_idx_ubyte(labels_path);
  if (images.shape.size() != 3 || labels.shape.size() != 1 || images.shape[0] != labels.shape[0]) {
    throw FileFormatError(images_path, "expected [N, H, W] images and [N] labels");
  }
  at::Tensor grey = at::from_blob(const_cast<uint8_t*>(images.data.data()), images.shape, at::kByte);
  at::Tensor rgb = grey.unsqueeze(3).expand({-1, -1, -1, 3}).contiguous();  // [N, 28, 28, 3], PIL's convert('RGB')
  std::vector<int64_t> label_values(labels.data.begin(), labels.data.end());
  std::vector<std::string> classes;
  for (int d = 0; d < 10; ++d) classes.push_back(std::to_string(d));
  return std::make_shared<InMemoryImageDataset>("mnist", rgb, std::move(label_values), classes);
}

std::shared_ptr<InMemoryImageDataset> open_stl10(const std::string& root, bool train) {
  const std::string folder = find_file({(fs::path(root) / "stl10_binary").string(), root}, "STL-10 binary folder");
  const std::string split = train ? "train" : "test";
  const std::string images_path = (fs::path(folder) / (split + "_X.bin")).string();
  const std::string labels_path = (fs::path(folder) / (split + "_y.bin")).string();
  const std::string image_bytes = read_whole_file(images_path);
  const std::string label_bytes = read_whole_file(labels_path);
  constexpr size_t kImage = 3 * 96 * 96;
  if (image_bytes.empty() || image_bytes.size() % kImage != 0 || image_bytes.size() / kImage != label_bytes.size()) {
    throw FileFormatError(images_path, "expected N 3x96x96 images and N labels in " + labels_path);
  }
  const int64_t count = static_cast<int64_t>(label_bytes.size());
  // Stored as [N, 3, W, H] (column-major images): to [N, H, W, 3].
  at::Tensor stored = at::from_blob(const_cast<char*>(image_bytes.data()), {count, 3, 96, 96}, at::kByte);
  at::Tensor images = stored.permute({0, 3, 2, 1}).contiguous();
  std::vector<int64_t> labels;
  for (char label : label_bytes) {
    const int value = static_cast<uint8_t>(label);
    if (value < 1 || value > 10) throw FileFormatError(labels_path, "label " + std::to_string(value) + " outside 1..10");
    labels.push_back(value - 1);
  }
  return std::make_shared<InMemoryImageDataset>("stl10", images, std::move(labels),
                                                optional_class_names((fs::path(folder) / "class_names.txt").string()));
}

}  // namespace slipstream
