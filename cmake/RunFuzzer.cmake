# Runs a libFuzzer binary for SECONDS on a fresh working corpus seeded from SEEDS.
file(REMOVE_RECURSE ${CORPUS})
file(MAKE_DIRECTORY ${CORPUS})
foreach(seed_dir IN LISTS SEEDS)
  if(IS_DIRECTORY ${seed_dir})
    file(GLOB seeds ${seed_dir}/*)
    file(COPY ${seeds} DESTINATION ${CORPUS})
  endif()
endforeach()
execute_process(
  COMMAND ${FUZZER} -max_total_time=${SECONDS} -max_len=65536 -rss_limit_mb=4096
          -print_final_stats=1 ${CORPUS}
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "fuzzer ${FUZZER} failed with exit code ${rc}")
endif()
