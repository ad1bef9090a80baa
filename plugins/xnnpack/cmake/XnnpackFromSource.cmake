# XNNPACK (with pthreadpool, cpuinfo and FXdiv) built from pinned source
# archives into a static, position-independent, hidden-visibility library that
# is linked into the plugin, so the installed plugin needs no system XNNPACK.
#
# One cache variable per archive names it (a URL, or a path on this machine);
# its default is the upstream archive of the pinned commit. Whatever it names,
# the unpacked files must have the recorded content digest
# (cmake/source_digest.py: independent of compression and top-folder name).
#
# The built libraries are kept in a cache folder keyed by the commits, the
# compilers and the flags: <root>/xnnpack-<key>, where <root> is
# $WICK_XNNPACK_CACHE_DIR, else $XDG_CACHE_HOME/wick, else ~/.cache/wick. A
# second build on the same machine (also from pip's temporary build folders)
# finds it and compiles nothing of XNNPACK.
#
# Defines the imported target wick_xnnpack::xnnpack (headers xnnpack.h and
# pthreadpool.h, the four static libraries in link order).

set(_wx_deps XNNPACK PTHREADPOOL CPUINFO FXDIV)
set(_wx_XNNPACK_commit 75db3c093b6d74fe90b8df82670cd8a01102ba38)      # 2026-08-21
set(_wx_XNNPACK_repo google/XNNPACK)
set(_wx_XNNPACK_digest bedbc1ac64e3ff8f0da1a6821c1d2f99965916a414735158fdac40616b5b4d9c)
set(_wx_PTHREADPOOL_commit 0e6ca13779b57d397a5ba6bfdcaa8a275bc8ea2e)  # 2025-10-20
set(_wx_PTHREADPOOL_repo google/pthreadpool)
set(_wx_PTHREADPOOL_digest a8affa558bbed20fc310589b999bd1577bb0c5a515365e2e27baff6a5cbfb2a1)
set(_wx_CPUINFO_commit d6108819d1d41c749b076e250be454c4559cb771)      # 2026-07-23
set(_wx_CPUINFO_repo pytorch/cpuinfo)
set(_wx_CPUINFO_digest 4e4cb19633fde5ffcbda3f729f706886389991da1c778bb0543a00d901568be8)
set(_wx_FXDIV_commit 63058eff77e11aa15bf531df5dd34395ec3017c8)        # 2020-12-08
set(_wx_FXDIV_repo Maratyszcza/FXdiv)
set(_wx_FXDIV_digest 83345e1bb766a097135ee7ed38d47f814b954f0547101d626cb37885c8cd5ebd)

foreach(_dep IN LISTS _wx_deps)
  set(WICK_XNNPACK_${_dep}_ARCHIVE
      "https://github.com/${_wx_${_dep}_repo}/archive/${_wx_${_dep}_commit}.tar.gz"
      CACHE STRING "Source archive (URL or path) of ${_wx_${_dep}_repo} at commit ${_wx_${_dep}_commit}")
endforeach()

# What the built library depends on besides the sources: the compilers (id and
# version, not the path: cc and gcc are one compiler), flags and XNNPACK's
# configuration. Changing any of them selects another cache folder.
set(_wx_c_flags "-fvisibility=hidden -O2 -DNDEBUG")
set(_wx_cxx_flags "-fvisibility=hidden -O2 -DNDEBUG")
set(_wx_options
  -DCMAKE_BUILD_TYPE=Release
  -DXNNPACK_LIBRARY_TYPE=static
  -DCMAKE_POSITION_INDEPENDENT_CODE=ON
  -DXNNPACK_BUILD_TESTS=OFF
  -DXNNPACK_BUILD_BENCHMARKS=OFF
  -DXNNPACK_BUILD_ALL_MICROKERNELS=OFF
  -DXNNPACK_ENABLE_KLEIDIAI=OFF
  -DPTHREADPOOL_BUILD_TESTS=OFF
  -DPTHREADPOOL_BUILD_BENCHMARKS=OFF
  -DCPUINFO_BUILD_TOOLS=OFF
  -DCPUINFO_BUILD_UNIT_TESTS=OFF
  -DCPUINFO_BUILD_MOCK_TESTS=OFF
  -DCPUINFO_BUILD_BENCHMARKS=OFF)
set(_wx_recipe 2)  # bump when this file changes what gets built
string(SHA256 _wx_key
  "${_wx_recipe}|${_wx_XNNPACK_digest}|${_wx_PTHREADPOOL_digest}|${_wx_CPUINFO_digest}|${_wx_FXDIV_digest}|\
${CMAKE_SYSTEM_PROCESSOR}|${CMAKE_C_COMPILER_ID} ${CMAKE_C_COMPILER_VERSION}|\
${CMAKE_CXX_COMPILER_ID} ${CMAKE_CXX_COMPILER_VERSION}|${_wx_c_flags}|${_wx_cxx_flags}|${_wx_options}")
string(SUBSTRING "${_wx_key}" 0 16 _wx_key)

if(DEFINED ENV{WICK_XNNPACK_CACHE_DIR} AND NOT "$ENV{WICK_XNNPACK_CACHE_DIR}" STREQUAL "")
  set(_wx_root "$ENV{WICK_XNNPACK_CACHE_DIR}")
elseif(DEFINED ENV{XDG_CACHE_HOME} AND NOT "$ENV{XDG_CACHE_HOME}" STREQUAL "")
  set(_wx_root "$ENV{XDG_CACHE_HOME}/wick")
else()
  set(_wx_root "$ENV{HOME}/.cache/wick")
endif()
set(WICK_XNNPACK_PREFIX "${_wx_root}/xnnpack-${_wx_key}")
set(_wx_libs XNNPACK xnnpack-microkernels-prod pthreadpool cpuinfo)  # link order

# Fetches one archive (URL or path), unpacks it into DEST and checks its digest.
function(_wick_xnnpack_unpack dep dest)
  set(_archive "${WICK_XNNPACK_${dep}_ARCHIVE}")
  set(_work "${dest}.d")
  file(REMOVE_RECURSE "${_work}" "${dest}")
  file(MAKE_DIRECTORY "${_work}")
  if(_archive MATCHES "^[a-z]+://")
    get_filename_component(_name "${_archive}" NAME)
    message(STATUS "wick-xnnpack: downloading ${_archive}")
    file(DOWNLOAD "${_archive}" "${_work}/${_name}" STATUS _st TLS_VERIFY ON)
    list(GET _st 0 _code)
    if(NOT _code EQUAL 0)
      message(FATAL_ERROR "wick-xnnpack: could not download ${_archive}: ${_st}. Offline? Point "
                          "-DWICK_XNNPACK_${dep}_ARCHIVE=... at a local copy (plugins/xnnpack/setup.sh uses shared/thirdparty).")
    endif()
    set(_file "${_work}/${_name}")
  else()
    if(NOT EXISTS "${_archive}")
      message(FATAL_ERROR "wick-xnnpack: WICK_XNNPACK_${dep}_ARCHIVE names ${_archive}, which does not exist.")
    endif()
    set(_file "${_archive}")
  endif()
  file(ARCHIVE_EXTRACT INPUT "${_file}" DESTINATION "${_work}/x")
  file(GLOB _top LIST_DIRECTORIES true "${_work}/x/*")
  list(LENGTH _top _n)
  if(NOT _n EQUAL 1 OR NOT IS_DIRECTORY "${_top}")
    message(FATAL_ERROR "wick-xnnpack: ${_archive} does not unpack into one top folder.")
  endif()
  execute_process(COMMAND "${Python_EXECUTABLE}" "${CMAKE_CURRENT_FUNCTION_LIST_DIR}/source_digest.py" "${_top}"
                  OUTPUT_VARIABLE _digest OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE _rc)
  if(NOT _rc EQUAL 0 OR NOT _digest STREQUAL _wx_${dep}_digest)
    message(FATAL_ERROR "wick-xnnpack: ${_archive} is not ${_wx_${dep}_repo} at ${_wx_${dep}_commit}: "
                        "content digest ${_digest}, expected ${_wx_${dep}_digest}.")
  endif()
  file(RENAME "${_top}" "${dest}")
  file(REMOVE_RECURSE "${_work}")
endfunction()

function(_wick_xnnpack_build)
  set(_tmp "${WICK_XNNPACK_PREFIX}.tmp")
  file(REMOVE_RECURSE "${_tmp}")
  foreach(_dep IN LISTS _wx_deps)
    _wick_xnnpack_unpack(${_dep} "${_tmp}/src/${_dep}")
  endforeach()
  # Keep subnormals as PyTorch does: XNNPACK asks the pool to flush them to
  # zero (FTZ/DAZ) around every operator, which makes subnormal inputs and
  # results zeros where eager PyTorch keeps them (conformance edge cases).
  set(_run "${_tmp}/src/XNNPACK/src/operator-run.c")
  file(READ "${_run}" _text)
  string(REPLACE "uint32_t flags = PTHREADPOOL_FLAG_DISABLE_DENORMALS;" "uint32_t flags = 0;" _patched "${_text}")
  if(_patched STREQUAL _text)
    message(FATAL_ERROR "wick-xnnpack: the subnormal patch no longer applies to ${_run}")
  endif()
  file(WRITE "${_run}" "${_patched}")
  string(TIMESTAMP _t0 "%s" UTC)
  message(STATUS "wick-xnnpack: building XNNPACK into ${WICK_XNNPACK_PREFIX} (once per machine: minutes)")
  set(_gen_args -G "${CMAKE_GENERATOR}")
  if(CMAKE_MAKE_PROGRAM)
    list(APPEND _gen_args "-DCMAKE_MAKE_PROGRAM=${CMAKE_MAKE_PROGRAM}")
  endif()
  execute_process(
    COMMAND "${CMAKE_COMMAND}" -S "${_tmp}/src/XNNPACK" -B "${_tmp}/build" ${_gen_args}
            "-DCMAKE_C_COMPILER=${CMAKE_C_COMPILER}" "-DCMAKE_CXX_COMPILER=${CMAKE_CXX_COMPILER}"
            "-DCMAKE_C_FLAGS=${_wx_c_flags}" "-DCMAKE_CXX_FLAGS=${_wx_cxx_flags}" ${_wx_options}
            "-DPython_EXECUTABLE=${Python_EXECUTABLE}" "-DPython3_EXECUTABLE=${Python_EXECUTABLE}"
            "-DCPUINFO_SOURCE_DIR=${_tmp}/src/CPUINFO" "-DPTHREADPOOL_SOURCE_DIR=${_tmp}/src/PTHREADPOOL"
            "-DFXDIV_SOURCE_DIR=${_tmp}/src/FXDIV"
    OUTPUT_FILE "${_tmp}/configure.log" ERROR_FILE "${_tmp}/configure.log" RESULT_VARIABLE _rc)
  if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "wick-xnnpack: configuring XNNPACK failed, see ${_tmp}/configure.log")
  endif()
  execute_process(COMMAND "${CMAKE_COMMAND}" --build "${_tmp}/build" --target XNNPACK
                  OUTPUT_FILE "${_tmp}/build.log" ERROR_FILE "${_tmp}/build.log" RESULT_VARIABLE _rc)
  if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "wick-xnnpack: building XNNPACK failed, see ${_tmp}/build.log")
  endif()
  string(TIMESTAMP _t1 "%s" UTC)
  math(EXPR _seconds "${_t1} - ${_t0}")
  file(MAKE_DIRECTORY "${_tmp}/out/lib" "${_tmp}/out/include")
  foreach(_lib IN LISTS _wx_libs)
    file(GLOB_RECURSE _found "${_tmp}/build/lib${_lib}.a")
    list(LENGTH _found _n)
    if(NOT _n EQUAL 1)
      message(FATAL_ERROR "wick-xnnpack: expected one lib${_lib}.a in the XNNPACK build, found: ${_found}")
    endif()
    file(COPY ${_found} DESTINATION "${_tmp}/out/lib")
  endforeach()
  file(GLOB _headers "${_tmp}/src/XNNPACK/include/*.h")
  file(COPY ${_headers} "${_tmp}/src/PTHREADPOOL/include/pthreadpool.h" DESTINATION "${_tmp}/out/include")
  file(COPY "${_tmp}/src/XNNPACK/LICENSE" DESTINATION "${_tmp}/out")
  file(WRITE "${_tmp}/out/BUILD_INFO"
       "XNNPACK ${_wx_XNNPACK_commit}\npthreadpool ${_wx_PTHREADPOOL_commit}\ncpuinfo ${_wx_CPUINFO_commit}\n"
       "FXdiv ${_wx_FXDIV_commit}\ncompiler ${CMAKE_C_COMPILER_ID} ${CMAKE_C_COMPILER_VERSION}\n"
       "build_seconds ${_seconds}\nparallel_level $ENV{CMAKE_BUILD_PARALLEL_LEVEL}\n")
  file(RENAME "${_tmp}/out" "${WICK_XNNPACK_PREFIX}")
  file(REMOVE_RECURSE "${_tmp}")
  message(STATUS "wick-xnnpack: XNNPACK built in ${_seconds} s")
endfunction()

message(STATUS "wick-xnnpack: XNNPACK cache folder ${WICK_XNNPACK_PREFIX}")
file(MAKE_DIRECTORY "${_wx_root}")
# One build at a time per cache folder (parallel pip installs wait here).
file(LOCK "${WICK_XNNPACK_PREFIX}.lock" GUARD FILE TIMEOUT 3600)
if(EXISTS "${WICK_XNNPACK_PREFIX}/BUILD_INFO")
  message(STATUS "wick-xnnpack: using the XNNPACK built before in ${WICK_XNNPACK_PREFIX}")
else()
  _wick_xnnpack_build()
endif()
file(LOCK "${WICK_XNNPACK_PREFIX}.lock" RELEASE)

add_library(wick_xnnpack_xnnpack INTERFACE)
add_library(wick_xnnpack::xnnpack ALIAS wick_xnnpack_xnnpack)
target_include_directories(wick_xnnpack_xnnpack INTERFACE "${WICK_XNNPACK_PREFIX}/include")
foreach(_lib IN LISTS _wx_libs)
  target_link_libraries(wick_xnnpack_xnnpack INTERFACE "${WICK_XNNPACK_PREFIX}/lib/lib${_lib}.a")
endforeach()
find_package(Threads REQUIRED)
target_link_libraries(wick_xnnpack_xnnpack INTERFACE Threads::Threads m)
