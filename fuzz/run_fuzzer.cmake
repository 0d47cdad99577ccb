# Runs one libFuzzer target for a bounded time from the seed corpus; fails on any crash, leak of
# memory beyond the RSS limit, or timeout reported by libFuzzer.
file(MAKE_DIRECTORY ${CORPUS})
execute_process(
  COMMAND ${FUZZER} ${CORPUS} ${SEEDS} -max_total_time=${SECONDS} -max_len=65536 -rss_limit_mb=2048
          -timeout=10 -print_final_stats=1
  RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "${FUZZER} found a failing input (exit ${result}); see the log above")
endif()
