# Helpers that give every target the project's warnings, and give unit tests and fuzz
# targets sanitizer-instrumented copies of the libraries they test, so that one build
# (and one ctest run) has optimized binaries for integration tests and ASan+UBSan ones
# for unit tests.

set(LLMOPS_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wno-unused-parameter)
if(LLMOPS_WERROR)
  list(APPEND LLMOPS_WARNINGS -Werror)
endif()
set(LLMOPS_SAN_FLAGS -fsanitize=address,undefined -fno-sanitize-recover=undefined
    -fno-omit-frame-pointer -g -O1)
if(LLMOPS_FUZZ)
  set(LLMOPS_SAN_COMPILE_FLAGS ${LLMOPS_SAN_FLAGS} -fsanitize=fuzzer-no-link)
else()
  set(LLMOPS_SAN_COMPILE_FLAGS ${LLMOPS_SAN_FLAGS})
endif()

function(_llmops_apply_san target)
  target_compile_options(${target} PRIVATE ${LLMOPS_SAN_COMPILE_FLAGS})
  target_link_options(${target} PUBLIC -fsanitize=address,undefined)
endfunction()

# llmops_library(NAME SOURCES ... [PUBLIC_LIBS ...] [INCLUDE_DIRS ...])
# Creates NAME and, when LLMOPS_SANITIZE_UNIT_TESTS is on, NAME_san built with
# ASan+UBSan; PUBLIC_LIBS that are llmops libraries are linked as their _san variant.
function(llmops_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;PUBLIC_LIBS;INCLUDE_DIRS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_compile_options(${name} PRIVATE ${LLMOPS_WARNINGS})
  target_include_directories(${name} PUBLIC ${ARG_INCLUDE_DIRS})
  target_link_libraries(${name} PUBLIC ${ARG_PUBLIC_LIBS})
  set_property(GLOBAL APPEND PROPERTY LLMOPS_LIBRARIES ${name})
  if(LLMOPS_SANITIZE_UNIT_TESTS)
    add_library(${name}_san STATIC ${ARG_SOURCES})
    target_compile_options(${name}_san PRIVATE ${LLMOPS_WARNINGS})
    _llmops_apply_san(${name}_san)
    target_include_directories(${name}_san PUBLIC ${ARG_INCLUDE_DIRS})
    set(san_libs)
    foreach(lib IN LISTS ARG_PUBLIC_LIBS)
      if(TARGET ${lib}_san)
        list(APPEND san_libs ${lib}_san)
      else()
        list(APPEND san_libs ${lib})
      endif()
    endforeach()
    target_link_libraries(${name}_san PUBLIC ${san_libs})
  endif()
endfunction()

function(_llmops_san_libs out)
  set(result)
  foreach(lib IN LISTS ARGN)
    if(LLMOPS_SANITIZE_UNIT_TESTS AND TARGET ${lib}_san)
      list(APPEND result ${lib}_san)
    else()
      list(APPEND result ${lib})
    endif()
  endforeach()
  set(${out} ${result} PARENT_SCOPE)
endfunction()

# llmops_executable(NAME SOURCES ... LIBS ...): an optimized program.
function(llmops_executable name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_compile_options(${name} PRIVATE ${LLMOPS_WARNINGS})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS})
endfunction()

# llmops_unit_test(NAME SOURCES ... LIBS ... [TIMEOUT s]): a GoogleTest binary linked
# against the sanitized libraries, registered with ctest under the label "unit".
function(llmops_unit_test name)
  cmake_parse_arguments(ARG "" "TIMEOUT" "SOURCES;LIBS" ${ARGN})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 120)
  endif()
  _llmops_san_libs(libs ${ARG_LIBS})
  add_executable(${name} ${ARG_SOURCES})
  target_compile_options(${name} PRIVATE ${LLMOPS_WARNINGS})
  if(LLMOPS_SANITIZE_UNIT_TESTS)
    _llmops_apply_san(${name})
  endif()
  target_link_libraries(${name} PRIVATE ${libs} GTest::gtest GTest::gtest_main Threads::Threads)
  target_compile_definitions(${name} PRIVATE
    LLMOPS_SHARED_DIR="${LLMOPS_SHARED_DIR}"
    LLMOPS_BINARY_DIR="${CMAKE_BINARY_DIR}"
    LLMOPS_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES LABELS unit TIMEOUT ${ARG_TIMEOUT}
    ENVIRONMENT "ASAN_OPTIONS=detect_leaks=1:abort_on_error=0;UBSAN_OPTIONS=print_stacktrace=1")
endfunction()

# llmops_fuzz_target(NAME SOURCES ... LIBS ... [SECONDS s] [CORPUS dir]): a libFuzzer
# binary and a ctest test (label "fuzz") that runs it for a bounded time.
function(llmops_fuzz_target name)
  cmake_parse_arguments(ARG "" "SECONDS;CORPUS" "SOURCES;LIBS" ${ARGN})
  if(NOT LLMOPS_FUZZ)
    return()
  endif()
  if(NOT ARG_SECONDS)
    set(ARG_SECONDS 60)
  endif()
  _llmops_san_libs(libs ${ARG_LIBS})
  add_executable(${name} ${ARG_SOURCES})
  target_compile_options(${name} PRIVATE ${LLMOPS_WARNINGS} ${LLMOPS_SAN_FLAGS} -fsanitize=fuzzer)
  target_link_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_libraries(${name} PRIVATE ${libs})
  set(corpus_dir ${CMAKE_CURRENT_BINARY_DIR}/${name}_corpus)
  set(seed_args)
  if(ARG_CORPUS)
    list(APPEND seed_args ${ARG_CORPUS})
  endif()
  math(EXPR timeout "${ARG_SECONDS} + 120")
  add_test(NAME ${name}
           COMMAND ${CMAKE_COMMAND} -E env ASAN_OPTIONS=detect_leaks=1
                   ${CMAKE_COMMAND} -DFUZZER=$<TARGET_FILE:${name}> -DCORPUS=${corpus_dir}
                   "-DSEEDS=${seed_args}" -DSECONDS=${ARG_SECONDS}
                   -P ${CMAKE_SOURCE_DIR}/cmake/RunFuzzer.cmake)
  set_tests_properties(${name} PROPERTIES LABELS "unit;fuzz" TIMEOUT ${timeout})
endfunction()

# llmops_realk8s_test(NAME LABEL COMMAND ... [ENVIRONMENT ...] [TIMEOUT s])
# A test against the real control plane of the fixture real_control_plane (see
# tests/realk8s/CMakeLists.txt); LABEL is realk8s or real-k8s-full. Does nothing when the
# fixture is not available (no Go). ctest -L takes a regex: `-L realk8s` must not
# select the whole matrix, hence the name real-k8s-full for it.
function(llmops_realk8s_test name label)
  cmake_parse_arguments(ARG "" "TIMEOUT" "COMMAND;ENVIRONMENT" ${ARGN})
  if(NOT LLMOPS_REAL_CLUSTER_TESTS)
    return()
  endif()
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 600)
  endif()
  add_test(NAME ${name} COMMAND ${ARG_COMMAND})
  set_tests_properties(${name} PROPERTIES
    LABELS ${label} TIMEOUT ${ARG_TIMEOUT}
    FIXTURES_REQUIRED real_control_plane RESOURCE_LOCK real_control_plane
    ENVIRONMENT "${ARG_ENVIRONMENT};LLMOPS_TEST_BACKEND=real;REAL_CLUSTER_DIR=${LLMOPS_REAL_CLUSTER_DIR};LLMOPS_BUILD=${CMAKE_BINARY_DIR}")
endfunction()
