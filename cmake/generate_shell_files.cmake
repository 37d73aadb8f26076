# Writes the shell completions and the manual page that the built costi prints from its
# command table (`costi completion bash|zsh|fish`, `costi man`), for the install rules.
# Run at build time: cmake -DCOSTI=path/to/costi -DOUT=dir -P generate_shell_files.cmake
foreach(var COSTI OUT)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "generate_shell_files.cmake needs -D${var}=...")
  endif()
endforeach()
file(MAKE_DIRECTORY "${OUT}/completions" "${OUT}/man")
set(outputs
  "completion bash|completions/costi"
  "completion zsh|completions/_costi"
  "completion fish|completions/costi.fish"
  "man|man/costi.1")
foreach(entry IN LISTS outputs)
  string(REPLACE "|" ";" parts "${entry}")
  list(GET parts 0 args)
  list(GET parts 1 file)
  separate_arguments(args UNIX_COMMAND "${args}")
  execute_process(COMMAND "${COSTI}" ${args}
                  OUTPUT_FILE "${OUT}/${file}"
                  RESULT_VARIABLE status
                  ERROR_VARIABLE errors)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "costi ${args} failed (${status}): ${errors}")
  endif()
endforeach()
