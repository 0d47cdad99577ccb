# Locate LibTorch, in this order:
#   1. Torch_DIR or CMAKE_PREFIX_PATH (a libtorch archive from pytorch.org),
#   2. the PyPI torch wheel of SLIPSTREAM_PYTHON (or the first python3 on PATH):
#      torch.utils.cmake_prefix_path holds its TorchConfig.cmake.
# Sets SLIPSTREAM_WITH_CUDA when LibTorch is a CUDA build and a CUDA toolkit is present.

find_package(Torch QUIET CONFIG)
if(NOT Torch_FOUND)
  if(NOT SLIPSTREAM_PYTHON)
    find_program(SLIPSTREAM_PYTHON_FOUND NAMES python3 python)
    set(SLIPSTREAM_PYTHON "${SLIPSTREAM_PYTHON_FOUND}" CACHE FILEPATH "" FORCE)
  endif()
  if(NOT SLIPSTREAM_PYTHON)
    message(FATAL_ERROR "slipstream: LibTorch not found. Pass -DTorch_DIR=/path/to/libtorch/share/cmake/Torch, "
                        "-DCMAKE_PREFIX_PATH=/path/to/libtorch, or -DSLIPSTREAM_PYTHON=/path/to/python-with-torch.")
  endif()
  execute_process(
    COMMAND "${SLIPSTREAM_PYTHON}" -c "import torch.utils; print(torch.utils.cmake_prefix_path, end='')"
    OUTPUT_VARIABLE _slipstream_torch_prefix
    ERROR_VARIABLE _slipstream_torch_error
    RESULT_VARIABLE _slipstream_torch_result)
  if(NOT _slipstream_torch_result EQUAL 0)
    message(FATAL_ERROR "slipstream: LibTorch not found, and '${SLIPSTREAM_PYTHON}' cannot import torch "
                        "(run scripts/setup.sh, or pass -DTorch_DIR=...): ${_slipstream_torch_error}")
  endif()
  list(APPEND CMAKE_PREFIX_PATH "${_slipstream_torch_prefix}")
  find_package(Torch REQUIRED CONFIG)
endif()

set(SLIPSTREAM_WITH_CUDA OFF)
set(SLIPSTREAM_CUDA_NOTE "(LibTorch is a CPU build)")
if(TARGET torch_cuda OR TARGET c10_cuda)
  find_package(CUDAToolkit QUIET)
  if(CUDAToolkit_FOUND)
    set(SLIPSTREAM_WITH_CUDA ON)
    set(SLIPSTREAM_CUDA_NOTE "(LibTorch CUDA build, toolkit ${CUDAToolkit_VERSION} at ${CUDAToolkit_LIBRARY_ROOT})")
  else()
    set(SLIPSTREAM_CUDA_NOTE "(LibTorch is a CUDA build but no CUDA toolkit was found)")
  endif()
endif()

# NCCL comes with LibTorch (libtorch_cuda and c10d's ProcessGroupNCCL); slipstream links no
# second copy, so the version the GPU hosts use is the one LibTorch was built against.
if(SLIPSTREAM_WITH_CUDA)
  set(SLIPSTREAM_NCCL_NOTE "LibTorch's own (version reported by 'slip_tools info')")
else()
  set(SLIPSTREAM_NCCL_NOTE "not used (no CUDA)")
endif()
