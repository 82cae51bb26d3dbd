# Warnings and sanitizer flags for our own targets only; third-party code is
# consumed through imported targets and never sees -Werror.
add_library(sluice_build_flags INTERFACE)
target_compile_options(sluice_build_flags INTERFACE -Wall -Wextra -Wno-missing-field-initializers)
if(SLUICE_WERROR)
  target_compile_options(sluice_build_flags INTERFACE -Werror)
endif()
# GCC 12 at -O3 (the Release build) warns -Wrestrict inside libstdc++'s own
# `"literal" + std::string` (GCC bug 105329, fixed in 13): a false positive in code we
# cannot change, and it fires in dozens of ordinary string concatenations.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  target_compile_options(sluice_build_flags INTERFACE -Wno-restrict)
endif()
if(SLUICE_SANITIZE)
  target_compile_options(sluice_build_flags INTERFACE -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all)
  target_link_options(sluice_build_flags INTERFACE -fsanitize=address,undefined)
endif()
if(SLUICE_FUZZ)
  # clang only: coverage instrumentation without libFuzzer's main for every target; the
  # fuzz binaries in tests/fuzz/ add -fsanitize=fuzzer. UB aborts so libFuzzer sees it.
  target_compile_options(sluice_build_flags INTERFACE -fsanitize=fuzzer-no-link,address,undefined
                         -fno-sanitize-recover=all -fno-omit-frame-pointer)
  target_link_options(sluice_build_flags INTERFACE -fsanitize=address,undefined)
endif()

# sluice_library(<name> SOURCES ... DEPS ...): one library per module, public headers in include/.
function(sluice_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include)
  target_link_libraries(${name} PUBLIC ${ARG_DEPS} PRIVATE sluice_build_flags)
endfunction()

# sluice_test(<name> SOURCES ... DEPS ...): a GoogleTest binary registered with CTest.
function(sluice_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main sluice_build_flags)
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES TIMEOUT 300)
endfunction()
