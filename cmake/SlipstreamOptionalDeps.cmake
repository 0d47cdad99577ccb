# Header-only libraries the core needs, and the optional system libraries of the data component.

find_package(nlohmann_json 3.9 REQUIRED)
if(SLIPSTREAM_BUILD_APPS)
  find_package(CLI11 REQUIRED)
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
if(NOT OpenCV_FOUND)
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
