// safetensors: round trips for every supported dtype, memory-mapped reads that never write back,
// atomic writes, and clear errors (never a crash) for corrupt or truncated files.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

#include "slipstream/core/error.h"
#include "slipstream/core/safetensors.h"
#include "test_paths.h"

namespace slipstream {
namespace {

using testing::read_bytes;
using testing::TemporaryFolder;
using testing::write_bytes;

std::map<std::string, at::Tensor> sample_tensors() {
  at::manual_seed(0);
  return {
      {"f32", at::randn({3, 4})},
      {"f64", at::randn({2}, at::kDouble)},
      {"f16", at::randn({5}).to(at::kHalf)},
      {"bf16", at::randn({2, 3}).to(at::kBFloat16)},
      {"i64", at::arange(7, at::kLong)},
      {"i32", at::arange(-3, 3, at::kInt)},
      {"u8", at::arange(0, 250, 50, at::kByte)},
      {"bool", at::arange(5).remainder(2).eq(0)},
      {"scalar", at::full({}, 2.5)},
      {"empty", at::zeros({0, 4})},
      {"transposed", at::randn({4, 3}).t()},  // non-contiguous input
  };
}

// Builds a file from a raw header text and payload.
std::string raw_file(const std::string& header, const std::string& payload) {
  uint64_t size = header.size();
  std::string bytes(8, '\0');
  std::memcpy(bytes.data(), &size, 8);
  return bytes + header + payload;
}

TEST(Safetensors, RoundTripsEveryDtypeWithMetadata) {
  TemporaryFolder folder;
  const auto tensors = sample_tensors();
  save_safetensors(folder.file("a.safetensors"), tensors, {{"model", "SLIP_VITB16"}, {"epoch", "3"}});
  const SafetensorsFile file = load_safetensors(folder.file("a.safetensors"));
  ASSERT_EQ(file.tensors.size(), tensors.size());
  for (const auto& [name, tensor] : tensors) {
    const at::Tensor& loaded = file.tensors.at(name);
    EXPECT_EQ(loaded.scalar_type(), tensor.scalar_type()) << name;
    EXPECT_EQ(loaded.sizes(), tensor.sizes()) << name;
    EXPECT_TRUE(at::equal(loaded, tensor)) << name;
  }
  EXPECT_EQ(file.metadata.at("model"), "SLIP_VITB16");
  EXPECT_EQ(file.metadata.at("epoch"), "3");
}

TEST(Safetensors, DataSectionIsAlignedAndHeaderIsReadable) {
  TemporaryFolder folder;
  save_safetensors(folder.file("a.safetensors"), sample_tensors());
  const std::string bytes = read_bytes(folder.file("a.safetensors"));
  uint64_t header_size = 0;
  std::memcpy(&header_size, bytes.data(), 8);
  EXPECT_EQ((8 + header_size) % 8, 0u);
  const SafetensorsFile header = read_safetensors_header(folder.file("a.safetensors"));
  EXPECT_EQ(header.tensors.at("bf16").sizes(), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(header.tensors.at("bf16").scalar_type(), at::kBFloat16);
  EXPECT_TRUE(header.tensors.at("bf16").is_meta());
}

TEST(Safetensors, WritingIntoLoadedTensorsLeavesTheFileUnchanged) {
  TemporaryFolder folder;
  save_safetensors(folder.file("a.safetensors"), {{"w", at::ones({1000})}});
  const std::string before = read_bytes(folder.file("a.safetensors"));
  {
    SafetensorsFile file = load_safetensors(folder.file("a.safetensors"));
    file.tensors.at("w").mul_(7);
    EXPECT_EQ(file.tensors.at("w")[0].item<float>(), 7.0f);
  }
  EXPECT_EQ(read_bytes(folder.file("a.safetensors")), before);
}

TEST(Safetensors, TensorsOutliveTheFileObject) {
  TemporaryFolder folder;
  save_safetensors(folder.file("a.safetensors"), {{"w", at::arange(10, at::kFloat)}});
  at::Tensor kept = load_safetensors(folder.file("a.safetensors")).tensors.at("w");
  std::filesystem::remove(folder.file("a.safetensors"));
  EXPECT_EQ(kept.sum().item<float>(), 45.0f);
}

TEST(Safetensors, ReadsMisalignedDataFromOtherWriters) {
  TemporaryFolder folder;
  // Header of odd length, so the float data starts at an address not divisible by 4.
  const std::string header = R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  ASSERT_NE((8 + header.size()) % 4, 0u);
  float values[2] = {1.5f, -2.0f};
  write_bytes(folder.file("odd.safetensors"), raw_file(header, std::string(reinterpret_cast<char*>(values), 8)));
  const at::Tensor x = load_safetensors(folder.file("odd.safetensors")).tensors.at("x");
  EXPECT_EQ(x[0].item<float>(), 1.5f);
  EXPECT_EQ(x[1].item<float>(), -2.0f);
}

TEST(Safetensors, SaveIsAtomicAndLeavesNoTemporaryFiles) {
  TemporaryFolder folder;
  save_safetensors(folder.file("w.safetensors"), {{"a", at::ones({4})}});
  const std::string good = read_bytes(folder.file("w.safetensors"));
  // A tensor safetensors cannot store makes the save fail: the old file must survive intact.
  EXPECT_THROW(save_safetensors(folder.file("w.safetensors"),
                                {{"a", at::ones({4})}, {"c", at::ones({2}, at::kComplexFloat)}}),
               Error);
  EXPECT_EQ(read_bytes(folder.file("w.safetensors")), good);
  int entries = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(folder.path())) ++entries;
  EXPECT_EQ(entries, 1);
}

// Every malformed file must raise FileFormatError naming the path and the problem.
void expect_format_error(const std::string& path, const std::string& expected_fragment) {
  try {
    load_safetensors(path);
    FAIL() << "no error for " << path;
  } catch (const FileFormatError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find(path), std::string::npos) << message;
    EXPECT_NE(message.find(expected_fragment), std::string::npos) << message;
  }
}

TEST(Safetensors, CorruptFilesGiveClearErrors) {
  TemporaryFolder folder;
  const std::string good_header = R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  const std::string payload(8, '\0');
  struct Case {
    std::string name, bytes, fragment;
  };
  const std::vector<Case> cases = {
      {"empty", "", "at least an 8-byte header length"},
      {"short", "abc", "at least an 8-byte header length"},
      {"huge_header", std::string("\xff\xff\xff\xff\xff\xff\x00\x00", 8) + "{}", "exceeds the 100 MB limit"},
      {"header_past_end", raw_file(good_header, payload).substr(0, 30), "truncated"},
      {"not_json", raw_file("{not json", payload), "not valid JSON"},
      {"not_object", raw_file("[1,2]", payload), "not a JSON object"},
      {"unknown_dtype", raw_file(R"({"x":{"dtype":"F8","shape":[2],"data_offsets":[0,8]}})", payload),
       "unsupported dtype 'F8'"},
      {"missing_fields", raw_file(R"({"x":{"dtype":"F32"}})", payload), "expected an object with"},
      {"negative_shape", raw_file(R"({"x":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", payload),
       "non-integer or negative"},
      {"size_mismatch", raw_file(R"({"x":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", payload),
       "need 12"},
      {"truncated_data", raw_file(good_header, payload.substr(0, 5)), "outside the 5-byte data section"},
      {"reversed_offsets", raw_file(R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", payload),
       "outside"},
      {"bad_metadata", raw_file(R"({"__metadata__":{"a":1}})", ""), "is not a string"},
      {"overflowing_shape",
       raw_file(R"({"x":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}})", payload),
       "too large"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string path = folder.file(c.name + ".safetensors");
    write_bytes(path, c.bytes);
    expect_format_error(path, c.fragment);
  }
  expect_format_error(folder.file("does_not_exist.safetensors"), "cannot open");
}

TEST(Safetensors, TruncatingAValidFileAnywhereIsAnError) {
  TemporaryFolder folder;
  save_safetensors(folder.file("full.safetensors"), sample_tensors());
  const std::string bytes = read_bytes(folder.file("full.safetensors"));
  for (size_t cut : {size_t{0}, size_t{4}, size_t{9}, bytes.size() / 2, bytes.size() - 1}) {
    write_bytes(folder.file("cut.safetensors"), bytes.substr(0, cut));
    EXPECT_THROW(load_safetensors(folder.file("cut.safetensors")), FileFormatError) << "cut at " << cut;
  }
}

}  // namespace
}  // namespace slipstream
