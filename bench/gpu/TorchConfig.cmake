# find_package(Torch) for the LibTorch inside a pip-installed PyTorch, by path:
# its own TorchConfig.cmake also looks for the CUDA toolkit and cuDNN through
# CMake, which a machine with only the wheel's libraries does not pass.
# bench/gpu_check.sh sets MUROAN_TORCH_ROOT (the torch package's folder) and
# MUROAN_TORCH_CXX11_ABI (torch.compiled_with_cxx11_abi()).
if(NOT MUROAN_TORCH_ROOT OR NOT EXISTS "${MUROAN_TORCH_ROOT}/lib/libtorch.so")
  message(FATAL_ERROR "bench/gpu/TorchConfig.cmake: set MUROAN_TORCH_ROOT to the torch package's folder")
endif()
set(_lib "${MUROAN_TORCH_ROOT}/lib")
set(TORCH_INCLUDE_DIRS "${MUROAN_TORCH_ROOT}/include" "${MUROAN_TORCH_ROOT}/include/torch/csrc/api/include")
set(TORCH_LIBRARY "${_lib}/libtorch.so")
set(TORCH_CXX_FLAGS "-D_GLIBCXX_USE_CXX11_ABI=${MUROAN_TORCH_CXX11_ABI}")
add_library(muroan_pip_torch INTERFACE IMPORTED)
set_target_properties(muroan_pip_torch PROPERTIES
  INTERFACE_INCLUDE_DIRECTORIES "${TORCH_INCLUDE_DIRS}"
  INTERFACE_COMPILE_DEFINITIONS "_GLIBCXX_USE_CXX11_ABI=${MUROAN_TORCH_CXX11_ABI}")
# The CUDA libraries register the CUDA backend when loaded: keep them although no
# symbol of theirs is used. Their own dependencies (cuDNN, cuBLAS, ...) are found
# at run time through their RUNPATH, so the linker need not resolve them.
set(_libs "-Wl,--no-as-needed")
foreach(name torch_cuda c10_cuda torch torch_cpu c10)
  if(EXISTS "${_lib}/lib${name}.so")
    list(APPEND _libs "${_lib}/lib${name}.so")
  endif()
endforeach()
# The C++ library LibTorch uses, by path: a g++ without libstdc++.so (its dev
# symlink) links libstdc++.a statically, and two copies of std::locale in one
# process free each other's memory.
if(MUROAN_STDCXX)
  list(APPEND _libs "${MUROAN_STDCXX}")
endif()
list(APPEND _libs "-Wl,--as-needed" "-Wl,--allow-shlib-undefined" "-Wl,-rpath,${_lib}" Threads::Threads)
find_package(Threads REQUIRED)
set_target_properties(muroan_pip_torch PROPERTIES INTERFACE_LINK_LIBRARIES "${_libs}")
set(TORCH_LIBRARIES muroan_pip_torch)
set(Torch_FOUND TRUE)
