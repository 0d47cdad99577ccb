# Header-only libraries the core needs, and the optional system libraries of the data component.
# On a bare host (a GPU machine with LibTorch and no package registry) the header-only libraries
# come from SLIPSTREAM_HEADERS_DIR (nlohmann/json.hpp, CLI/CLI.hpp), which scripts/pack_gpu_build.sh
# fills from this machine's packages, and GoogleTest from SLIPSTREAM_GTEST_SOURCE_DIR.
set(SLIPSTREAM_HEADERS_DIR "" CACHE PATH "Folder holding nlohmann/json.hpp and CLI/CLI.hpp, when no package provides them")
# find_package(PACKAGE), else an interface target TARGET over SLIPSTREAM_HEADERS_DIR holding HEADER.
function(slipstream_header_library package target header debian_package)
  find_package(${package} QUIET)
  if(${package}_FOUND)
    return()
  endif()
  if(NOT EXISTS "${SLIPSTREAM_HEADERS_DIR}/${header}")
    message(FATAL_ERROR "${package} not found: install ${debian_package}, or set SLIPSTREAM_HEADERS_DIR to a folder "
                        "with ${header} (scripts/pack_gpu_build.sh makes one)")
  endif()
  add_library(${target} INTERFACE IMPORTED GLOBAL)
  target_include_directories(${target} INTERFACE "${SLIPSTREAM_HEADERS_DIR}")
  set(SLIPSTREAM_HEADERS_NOTE "from ${SLIPSTREAM_HEADERS_DIR}" PARENT_SCOPE)
endfunction()
slipstream_header_library(nlohmann_json nlohmann_json::nlohmann_json nlohmann/json.hpp nlohmann-json3-dev)
if(SLIPSTREAM_BUILD_APPS)
  slipstream_header_library(CLI11 CLI11::CLI11 CLI/CLI.hpp libcli11-dev)
endif()

# The core alone: the library, the distributed layer, the training step, slip_bench, slip_run and
# the GPU tests; every optional component (data, evaluation, training loops, tools) off.
option(SLIPSTREAM_CORE_ONLY "Build the core, slip_bench, slip_run and the GPU tests only" OFF)
if(SLIPSTREAM_CORE_ONLY)
  set(CMAKE_DISABLE_FIND_PACKAGE_ICU ON)
  set(CMAKE_DISABLE_FIND_PACKAGE_ZLIB ON)
  set(CMAKE_DISABLE_FIND_PACKAGE_OpenCV ON)
  set(CMAKE_DISABLE_FIND_PACKAGE_JPEG ON)
  set(CMAKE_DISABLE_FIND_PACKAGE_CURL ON)
  set(CMAKE_DISABLE_FIND_PACKAGE_PkgConfig ON)
endif()

# The data component (tokenizers, caption cleaning; images next) needs ICU for Unicode classes,
# NFC and case mapping, and zlib for CLIP's gzipped BPE merges. It is built when both are found.
find_package(ICU QUIET COMPONENTS uc)
find_package(ZLIB QUIET)
if(ICU_FOUND AND ZLIB_FOUND)
  set(SLIPSTREAM_WITH_DATA ON)
  set(SLIPSTREAM_DATA_NOTE "enabled (ICU ${ICU_VERSION}, zlib ${ZLIB_VERSION_STRING})")
else()
  set(SLIPSTREAM_WITH_DATA OFF)
  set(SLIPSTREAM_DATA_NOTE "disabled: needs ICU and zlib (apt-get install libicu-dev zlib1g-dev)")
endif()

# Optional: OpenCV (image decode and augmentations) and sentencepiece (tokenizer).
# Debian ships OpenCV's CMake config only in the heavy libopencv-dev meta-package (VTK, Qt...),
# so the three components the data pipeline needs are also found directly.
find_package(OpenCV QUIET COMPONENTS core imgproc imgcodecs)
if(NOT OpenCV_FOUND AND NOT SLIPSTREAM_CORE_ONLY)
  find_path(SLIPSTREAM_OPENCV_INCLUDE_DIR opencv2/core.hpp PATH_SUFFIXES opencv4)
  find_library(SLIPSTREAM_OPENCV_CORE opencv_core)
  find_library(SLIPSTREAM_OPENCV_IMGPROC opencv_imgproc)
  find_library(SLIPSTREAM_OPENCV_IMGCODECS opencv_imgcodecs)
  if(SLIPSTREAM_OPENCV_INCLUDE_DIR AND SLIPSTREAM_OPENCV_CORE AND SLIPSTREAM_OPENCV_IMGPROC AND SLIPSTREAM_OPENCV_IMGCODECS)
    set(OpenCV_FOUND ON)
    set(OpenCV_INCLUDE_DIRS "${SLIPSTREAM_OPENCV_INCLUDE_DIR}")
    set(OpenCV_LIBS "${SLIPSTREAM_OPENCV_CORE};${SLIPSTREAM_OPENCV_IMGPROC};${SLIPSTREAM_OPENCV_IMGCODECS}")
    file(STRINGS "${SLIPSTREAM_OPENCV_INCLUDE_DIR}/opencv2/core/version.hpp" _cv_version_lines
         REGEX "#define CV_VERSION_(MAJOR|MINOR|REVISION) ")
    string(REGEX REPLACE ".*MAJOR +([0-9]+).*MINOR +([0-9]+).*REVISION +([0-9]+).*" "\\1.\\2.\\3"
           OpenCV_VERSION "${_cv_version_lines}")
  endif()
endif()
if(OpenCV_FOUND)
  set(SLIPSTREAM_OPENCV_NOTE "found ${OpenCV_VERSION}")
else()
  set(SLIPSTREAM_OPENCV_NOTE "not found: image decoding disabled (apt-get install libopencv-imgcodecs-dev)")
endif()

# libjpeg(-turbo): JPEGs decoded straight to RGB (OpenCV's path swaps the channels twice).
find_package(JPEG QUIET)
if(JPEG_FOUND)
  set(SLIPSTREAM_JPEG_NOTE "found ${JPEG_VERSION}: JPEGs decoded directly")
else()
  set(SLIPSTREAM_JPEG_NOTE "not found: JPEGs decoded through OpenCV (apt-get install libjpeg-dev)")
endif()

# libcurl: streamed shards from http(s) URLs (pipe: and local shards need nothing).
find_package(CURL QUIET)
if(CURL_FOUND)
  set(SLIPSTREAM_CURL_NOTE "found ${CURL_VERSION_STRING}: http(s) shards streamed directly")
else()
  set(SLIPSTREAM_CURL_NOTE "not found: http(s) shards only through pipe:curl (apt-get install libcurl4-openssl-dev)")
endif()

find_package(PkgConfig QUIET)
set(SLIPSTREAM_SENTENCEPIECE_FOUND OFF)
if(PkgConfig_FOUND)
  pkg_check_modules(SENTENCEPIECE QUIET IMPORTED_TARGET sentencepiece)
  if(SENTENCEPIECE_FOUND)
    set(SLIPSTREAM_SENTENCEPIECE_FOUND ON)
  endif()
endif()
if(SLIPSTREAM_SENTENCEPIECE_FOUND)
  set(SLIPSTREAM_SENTENCEPIECE_NOTE "found ${SENTENCEPIECE_VERSION}")
else()
  set(SLIPSTREAM_SENTENCEPIECE_NOTE "not found: SentencePieceTokenizer disabled (apt-get install libsentencepiece-dev)")
endif()
