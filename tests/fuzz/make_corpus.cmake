# Builds the fuzzers' seed corpora and the config.json dictionary from the shipped files, so
# the seeds never go stale. Run by tests/fuzz/CMakeLists.txt as
#   cmake -DSRC=<source dir> -DOUT=<output dir> -DDICT_IN=<config_json.dict> -DCOST_DICT=<cost.dict>
#         -P make_corpus.cmake
#
# program/     every .cost file of stdlib/, kernels/, hardware/ and tests/golden/, cut at top-level
#              declarations into pieces of at most `max_piece` bytes (the fuzzer's -max_len), each
#              piece opening with its file's small imports (the prelude, the golden tests'
#              check_tiny.cost) rewritten relative to the source root, which the harness puts on
#              COSTI_PATH. Imports of the whole library are dropped (see below).
# config_json/ tests/models/configs/*.json and tests/repl/*.json as they are, plus one
#              config.json per shipped model, written from its `config { … }` block with
#              "architectures" taken from the kernel it runs.
# repl/        tests/repl/*.txt, the scripted REPL sessions, as they are.
# config_json.dict  DICT_IN plus every key a kernel reads as config.KEY, as a JSON string.
# repl.dict    COST_DICT plus every :command of repl/commands.cpp's command table.
cmake_minimum_required(VERSION 3.20)

# Pieces larger than the fuzzer's -max_len would be cut by libFuzzer mid-declaration.
set(max_piece 4000)

file(REMOVE_RECURSE "${OUT}/program" "${OUT}/config_json" "${OUT}/repl")
file(MAKE_DIRECTORY "${OUT}/program" "${OUT}/config_json" "${OUT}/repl")

# ---- program seeds ----
file(GLOB cost_files "${SRC}/stdlib/*.cost" "${SRC}/kernels/*.cost" "${SRC}/hardware/*.cost" "${SRC}/tests/golden/*.cost")
foreach(path IN LISTS cost_files)
  file(RELATIVE_PATH rel "${SRC}" "${path}")
  get_filename_component(dir "${rel}" DIRECTORY)
  string(REPLACE "/" "_" stem "${rel}")
  string(REGEX REPLACE "\\.cost$" "" stem "${stem}")
  file(READ "${path}" text)
  # CMake lists split on ';' and group across '[' ']': protect them while splitting lines.
  string(REPLACE ";" "<SEMI>" text "${text}")
  string(REPLACE "[" "<OPEN>" text "${text}")
  string(REPLACE "]" "<CLOSE>" text "${text}")
  string(REPLACE "\n" ";" lines "${text}")
  set(imports "")
  set(pieces "")
  set(piece "")
  foreach(line IN LISTS lines)
    if(line MATCHES "^import \"([^\"]+)\"")
      cmake_path(SET target NORMALIZE "${dir}/${CMAKE_MATCH_1}")
      # Only small imports are kept: a piece that loads the whole library costs a hundred
      # times more per run (the library's models are fuzzed by config_json_fuzz instead).
      if(target MATCHES "^(tests/golden/|stdlib/prelude.cost$|stdlib/roofline.cost$)")
        string(APPEND imports "import \"${target}\"\n")
      endif()
      continue()
    endif()
    # A new top-level declaration may start a new piece once the current one is big enough.
    string(LENGTH "${piece}" piece_len)
    if(line MATCHES "^(kernel|model|metric|runtime|alias|property|hardware|every) " AND piece_len GREATER 1500)
      list(APPEND pieces "${piece}")
      set(piece "")
    endif()
    string(APPEND piece "${line}\n")
  endforeach()
  list(APPEND pieces "${piece}")
  set(n 0)
  foreach(p IN LISTS pieces)
    if(NOT p MATCHES "[^ \n]")
      continue()
    endif()
    set(body "${imports}${p}")
    string(REPLACE "<SEMI>" ";" body "${body}")
    string(REPLACE "<OPEN>" "[" body "${body}")
    string(REPLACE "<CLOSE>" "]" body "${body}")
    string(LENGTH "${body}" len)
    if(len GREATER max_piece)
      string(SUBSTRING "${body}" 0 ${max_piece} body)
    endif()
    file(WRITE "${OUT}/program/${stem}_${n}.cost" "${body}")
    math(EXPR n "${n} + 1")
  endforeach()
endforeach()

# ---- config.json seeds ----
file(GLOB json_files "${SRC}/tests/models/configs/*.json" "${SRC}/tests/repl/*.json")
foreach(path IN LISTS json_files)
  get_filename_component(name "${path}" NAME)
  file(COPY_FILE "${path}" "${OUT}/config_json/${name}")
endforeach()

# One config.json per model file: `model NAME = $a.b.XForCausalLM { config { k = v … } }`.
file(GLOB model_files "${SRC}/models/*.cost")
foreach(path IN LISTS model_files)
  get_filename_component(stem "${path}" NAME_WLE)
  file(STRINGS "${path}" lines)
  set(arch "")
  set(in_config FALSE)
  set(entries "")
  foreach(line IN LISTS lines)
    if(line MATCHES "^model [^=]+= *\\$([A-Za-z0-9_.]+)")
      string(REGEX REPLACE "^.*\\." "" arch "${CMAKE_MATCH_1}")
    elseif(line MATCHES "^ *config *\\{")
      set(in_config TRUE)
    elseif(in_config AND line MATCHES "^ *\\}")
      set(in_config FALSE)
    elseif(in_config AND line MATCHES "^ *([A-Za-z_][A-Za-z0-9_.]*) *= *([^#]*[^# ])")
      set(key "${CMAKE_MATCH_1}")
      set(value "${CMAKE_MATCH_2}")
      # Keep what JSON can say as it is written; other expressions (2^20, a / b) are left out.
      if(value STREQUAL "true" OR value STREQUAL "false" OR value MATCHES "^\"[^\"]*\"$"
         OR value MATCHES "^-?[0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?$")
        string(APPEND entries ",\n  \"${key}\": ${value}")
      endif()
    endif()
  endforeach()
  if(NOT arch STREQUAL "")
    file(WRITE "${OUT}/config_json/model_${stem}.json" "{\n  \"architectures\": [\"${arch}\"]${entries}\n}\n")
  endif()
endforeach()

# ---- config.json dictionary ----
file(READ "${DICT_IN}" dict)
string(APPEND dict "\n# Generated: every config key a kernel reads.\n")
file(GLOB kernel_files "${SRC}/kernels/*.cost")
set(keys "")
foreach(path IN LISTS kernel_files)
  file(READ "${path}" text)
  string(REGEX MATCHALL "config\\.[A-Za-z_][A-Za-z0-9_.]*" found "${text}")
  list(APPEND keys ${found})
endforeach()
list(REMOVE_DUPLICATES keys)
list(SORT keys)
foreach(k IN LISTS keys)
  string(REGEX REPLACE "^config\\." "" k "${k}")
  string(REGEX REPLACE "\\.$" "" k "${k}")
  string(APPEND dict "\"\\\"${k}\\\"\"\n")
endforeach()
file(WRITE "${OUT}/config_json.dict" "${dict}")

# ---- REPL seeds and dictionary ----
file(GLOB session_files "${SRC}/tests/repl/*.txt")
foreach(path IN LISTS session_files)
  get_filename_component(name "${path}" NAME)
  file(COPY_FILE "${path}" "${OUT}/repl/${name}")
endforeach()
file(READ "${COST_DICT}" dict)
string(APPEND dict "\n# Generated: the REPL's commands.\n")
file(STRINGS "${SRC}/repl/commands.cpp" rows REGEX "^ *\\{\"[a-z]+\", \"")
foreach(row IN LISTS rows)
  if(row MATCHES "^ *\\{\"([a-z]+)\"")
    string(APPEND dict "\":${CMAKE_MATCH_1} \"\n")
  endif()
endforeach()
file(WRITE "${OUT}/repl.dict" "${dict}")
