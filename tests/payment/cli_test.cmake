# Runs x402-verify once and checks its stdout and exit status exactly.
#   -DCLI=<binary> -DVECTORS=<vectors.json> -DID=<vector id> -DWORK_DIR=<dir>
#       verifies the vector's header against its requirements at its verifyAt;
#       expects the line {"valid":…,"reason":…,"payer":…} of expectedOffline
#       and exit 0 (valid) or 1 (invalid).
#   -DCLI=<binary> -DARGS=<arg|arg|…>
#       a usage error: expects exit 2 and an empty stdout.
if(DEFINED ARGS)
    string(REPLACE "|" ";" argv "${ARGS}")
    execute_process(COMMAND "${CLI}" ${argv} RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err)
    if(NOT status EQUAL 2 OR NOT out STREQUAL "")
        message(FATAL_ERROR "x402-verify ${argv}: exit ${status}, stdout '${out}', stderr '${err}' (want exit 2, no stdout)")
    endif()
    return()
endif()

file(READ "${VECTORS}" text)
string(JSON count LENGTH "${text}" vectors)
math(EXPR last "${count} - 1")
foreach(i RANGE ${last})
    string(JSON candidate GET "${text}" vectors ${i} id)
    if(candidate STREQUAL ID)
        set(index ${i})
    endif()
endforeach()
if(NOT DEFINED index)
    message(FATAL_ERROR "no vector ${ID}")
endif()

string(JSON header_name GET "${text}" vectors ${index} headerName)
string(JSON header_value GET "${text}" vectors ${index} headerValue)
string(JSON requirements GET "${text}" vectors ${index} requirements)
string(JSON now GET "${text}" vectors ${index} verifyAt)
string(JSON valid GET "${text}" vectors ${index} expectedOffline valid)
file(MAKE_DIRECTORY "${WORK_DIR}")
set(requirements_file "${WORK_DIR}/${ID}.requirements.json")
file(WRITE "${requirements_file}" "${requirements}")

# The expected line, built from expectedOffline.
if(valid)
    set(expected "{\"valid\":true")
    set(expected_status 0)
else()
    set(expected "{\"valid\":false")
    set(expected_status 1)
endif()
foreach(field reason payer)
    string(JSON type TYPE "${text}" vectors ${index} expectedOffline ${field})
    if(type STREQUAL "NULL")
        string(APPEND expected ",\"${field}\":null")
    else()
        string(JSON value GET "${text}" vectors ${index} expectedOffline ${field})
        string(APPEND expected ",\"${field}\":\"${value}\"")
    endif()
endforeach()
string(APPEND expected "}\n")

execute_process(COMMAND "${CLI}" --header-name "${header_name}" --header "${header_value}"
                        --requirements "${requirements_file}" --now "${now}"
                RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT status EQUAL expected_status OR NOT out STREQUAL expected)
    message(FATAL_ERROR "${ID}: exit ${status} (want ${expected_status})\n got: ${out} want: ${expected} stderr: ${err}")
endif()
message(STATUS "${ID}: ${out}")
