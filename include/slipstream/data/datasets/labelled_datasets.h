// The evaluation datasets of SLIP's catalog, read from the files their publishers distribute:
//   imagefolder  torchvision's ImageFolder: class = sorted sub-folder, images sorted within it
//   filelist     SLIP's <split>_images.npy (paths) + <split>_labels.npy (ints, or clevr's "count_N" names)
//   cifar10      cifar-10-batches-bin/{data_batch_1..5,test_batch}.bin   (label byte + 3072 bytes CHW)
//   cifar100     cifar-100-binary/{train,test}.bin                     (coarse, fine label + 3072 bytes)
//   mnist        {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz] (in root, MNIST/raw or raw)
//   stl10        stl10_binary/{train,test}_{X,y}.bin                   (3x96x96 column-major, labels 1..10)
#pragma once
#include <string>
#include <vector>

#include "slipstream/data/datasets/dataset.h"

namespace slipstream {

// Images on disk with labels (imagefolder, filelist).
class LabelledFilesDataset : public Dataset {
 public:
  LabelledFilesDataset(std::string name, std::vector<std::string> paths, std::vector<int64_t> labels,
                       std::vector<std::string> classes);
  int64_t size() const override { return static_cast<int64_t>(paths_.size()); }
  RawSample get(int64_t index) const override;
  std::string description() const override;
  std::vector<std::string> class_names() const override { return classes_; }
  const std::vector<int64_t>& labels() const { return labels_; }

 private:
  std::string name_;
  std::vector<std::string> paths_;
  std::vector<int64_t> labels_;
  std::vector<std::string> classes_;
};

// Decoded images held in memory (CIFAR, MNIST, STL-10): uint8 [N, H, W, 3] and labels.
class InMemoryImageDataset : public Dataset {
 public:
  InMemoryImageDataset(std::string name, Image images, std::vector<int64_t> labels, std::vector<std::string> classes);
  int64_t size() const override { return images_.size(0); }
  RawSample get(int64_t index) const override;
  std::string description() const override;
  std::vector<std::string> class_names() const override { return classes_; }
  const std::vector<int64_t>& labels() const { return labels_; }

 private:
  std::string name_;
  Image images_;  // uint8 [N, H, W, 3]
  std::vector<int64_t> labels_;
  std::vector<std::string> classes_;
};

// Each throws FileFormatError naming the missing or malformed file.
std::shared_ptr<LabelledFilesDataset> open_image_folder(const std::string& folder);
// Named labels become their index in `class_order` when given (SLIP's clevr_counts list), else in
// their sorted order.
std::shared_ptr<LabelledFilesDataset> open_file_list(const std::string& root, const std::string& split,
                                                     const std::string& name = "filelist",
                                                     const std::vector<std::string>& class_order = {});
// The class list SLIP's get_downstream_dataset hard-codes for clevr_counts' named labels.
const std::vector<std::string>& slip_clevr_count_classes();
std::shared_ptr<InMemoryImageDataset> open_cifar10(const std::string& root, bool train);
std::shared_ptr<InMemoryImageDataset> open_cifar100(const std::string& root, bool train);
std::shared_ptr<InMemoryImageDataset> open_mnist(const std::string& root, bool train);
std::shared_ptr<InMemoryImageDataset> open_stl10(const std::string& root, bool train);

}  // namespace slipstream
