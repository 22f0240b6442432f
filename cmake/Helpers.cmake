# Small helpers in the Abseil pattern: one static library per folder, its tests right below.

set(PAODIN_WARNINGS -Wall -Wextra -Werror -Wno-unused-parameter)

# paodin_cc_library(NAME n SRCS ... [HDRS ...] [DEPS ...])
# Declares the static library paodin_<n> with the alias paodin::<n>.
function(paodin_cc_library)
  cmake_parse_arguments(A "" "NAME" "SRCS;HDRS;DEPS" ${ARGN})
  add_library(paodin_${A_NAME} STATIC ${A_SRCS} ${A_HDRS})
  add_library(paodin::${A_NAME} ALIAS paodin_${A_NAME})
  target_include_directories(paodin_${A_NAME} PUBLIC ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR})
  target_compile_options(paodin_${A_NAME} PRIVATE ${PAODIN_WARNINGS})
  target_link_libraries(paodin_${A_NAME} PUBLIC ${A_DEPS})
endfunction()

# paodin_cc_test(NAME n SRCS ... DEPS ... [LABELS ...])
# A GoogleTest binary registered as one ctest named n. LABELS "unit" tests also run under
# the sanitizers in CI; "integration" ones start processes.
function(paodin_cc_test)
  if(NOT PAODIN_BUILD_TESTS)
    return()
  endif()
  cmake_parse_arguments(A "" "NAME" "SRCS;DEPS;LABELS" ${ARGN})
  add_executable(${A_NAME} ${A_SRCS})
  target_compile_options(${A_NAME} PRIVATE ${PAODIN_WARNINGS})
  target_link_libraries(${A_NAME} PRIVATE ${A_DEPS} GTest::gmock GTest::gtest_main)
  add_test(NAME ${A_NAME} COMMAND ${A_NAME} WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
  if(NOT A_LABELS)
    set(A_LABELS unit)
  endif()
  set_tests_properties(${A_NAME} PROPERTIES LABELS "${A_LABELS}")
endfunction()

# paodin_cc_bench(NAME n SRCS ... DEPS ...): a Google Benchmark binary (not a test).
function(paodin_cc_bench)
  if(NOT PAODIN_BUILD_BENCH)
    return()
  endif()
  cmake_parse_arguments(A "" "NAME" "SRCS;DEPS" ${ARGN})
  add_executable(${A_NAME} ${A_SRCS})
  target_compile_options(${A_NAME} PRIVATE ${PAODIN_WARNINGS})
  target_link_libraries(${A_NAME} PRIVATE ${A_DEPS} benchmark::benchmark benchmark::benchmark_main)
endfunction()

# paodin_cc_fuzz(NAME n SRCS ... DEPS ... [SECONDS s] [CORPUS dir]): a libFuzzer target, built
# only with PAODIN_BUILD_FUZZ under clang, and registered as a bounded ctest (label "fuzz").
# The fuzz build compiles everything with PAODIN_SANITIZE=address,undefined,fuzzer-no-link.
function(paodin_cc_fuzz)
  if(NOT PAODIN_BUILD_FUZZ)
    return()
  endif()
  cmake_parse_arguments(A "" "NAME;SECONDS;CORPUS" "SRCS;DEPS" ${ARGN})
  if(NOT A_SECONDS)
    set(A_SECONDS 30)
  endif()
  add_executable(${A_NAME} ${A_SRCS})
  # The whole fuzz build is compiled with PAODIN_SANITIZE=address,undefined,fuzzer-no-link.
  target_link_options(${A_NAME} PRIVATE -fsanitize=fuzzer)
  target_link_libraries(${A_NAME} PRIVATE ${A_DEPS})
  add_dependencies(fuzzers ${A_NAME})
  set(_args -max_total_time=${A_SECONDS} -timeout=10 -rss_limit_mb=2048)
  if(A_CORPUS)
    set(_work ${CMAKE_CURRENT_BINARY_DIR}/${A_NAME}_corpus)
    add_test(NAME ${A_NAME}
             COMMAND sh -c "mkdir -p ${_work} && exec $<TARGET_FILE:${A_NAME}> ${_args} ${_work} ${A_CORPUS}")
  else()
    add_test(NAME ${A_NAME} COMMAND ${A_NAME} ${_args})
  endif()
  set_tests_properties(${A_NAME} PROPERTIES LABELS fuzz TIMEOUT 600)
endfunction()

# `fuzzers` builds every fuzz target; paodin_cc_fuzz adds to it.
if(PAODIN_BUILD_FUZZ AND NOT TARGET fuzzers)
  add_custom_target(fuzzers)
endif()
