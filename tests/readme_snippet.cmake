# Fails when the README's usage example differs from the code between the
# snippet markers of examples/tool_handler.cpp, which is compiled and run.
file(READ "${SOURCE_DIR}/examples/tool_handler.cpp" example)
file(READ "${SOURCE_DIR}/README.md" readme)
string(REGEX MATCH "// \\[readme-snippet-begin\\]\n(.*)\n// \\[readme-snippet-end\\]" found "${example}")
if(NOT found)
    message(FATAL_ERROR "examples/tool_handler.cpp has no readme-snippet markers")
endif()
string(FIND "${readme}" "```cpp\n${CMAKE_MATCH_1}\n```" position)
if(position EQUAL -1)
    message(FATAL_ERROR "README.md's usage example differs from examples/tool_handler.cpp; copy the snippet over")
endif()
