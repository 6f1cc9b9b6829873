# e2e tests of the berth CLI: a docker user's first session through `berth`
# against an Engine API daemon on a private socket. TARGET dockerd is Debian's
# dockerd 20.10; the lead adds berthd. The script exits 77 (skip) when the
# daemon cannot run here.
add_test(NAME "e2e: berth CLI walkthrough [dockerd]"
  COMMAND ${PROJECT_SOURCE_DIR}/tests/e2e/cli_walkthrough.sh dockerd)
set_tests_properties("e2e: berth CLI walkthrough [dockerd]" PROPERTIES
  ENVIRONMENT "CLI=$<TARGET_FILE:berth>"
  SKIP_RETURN_CODE 77
  TIMEOUT 240)

# The same walkthrough against berthd + berth-runtimed: with berth, and with
# the real docker CLIs (Debian's 20.10 and the docker 28 client when present).
foreach(client berth docker-20.10 docker-28)
  if(client STREQUAL "berth")
    set(client_path $<TARGET_FILE:berth>)
  elseif(client STREQUAL "docker-20.10")
    set(client_path /usr/bin/docker)
  else()
    set(client_path /usr/local/bin/docker)
  endif()
  add_test(NAME "e2e: ${client} CLI walkthrough [berthd]"
    COMMAND ${PROJECT_SOURCE_DIR}/tests/e2e/cli_walkthrough.sh berthd)
  set_tests_properties("e2e: ${client} CLI walkthrough [berthd]" PROPERTIES
    ENVIRONMENT "CLI=${client_path};BUILD_DIR=${PROJECT_BINARY_DIR}"
    SKIP_RETURN_CODE 77
    TIMEOUT 240)
endforeach()

# The interactive session (run -it, exec -it, attach, detach keys, resize)
# through a pty, with berth against dockerd or berthd.
foreach(target dockerd berthd)
  add_test(NAME "e2e: berth interactive session [${target}]"
    COMMAND ${PROJECT_SOURCE_DIR}/tests/e2e/interactive_test.sh ${target})
  set_tests_properties("e2e: berth interactive session [${target}]" PROPERTIES
    ENVIRONMENT "CLI=$<TARGET_FILE:berth>;BUILD_DIR=${PROJECT_BINARY_DIR}"
    SKIP_RETURN_CODE 77
    TIMEOUT 300)
endforeach()

# logs and the json-file driver (10 000 lines, --tail, -f, --details,
# rotation, the none driver, bad options) against dockerd and berthd.
foreach(target dockerd berthd)
  add_test(NAME "e2e: berth logs and json-file rotation [${target}]"
    COMMAND ${PROJECT_SOURCE_DIR}/tests/e2e/logs_test.sh ${target})
  set_tests_properties("e2e: berth logs and json-file rotation [${target}]" PROPERTIES
    ENVIRONMENT "CLI=$<TARGET_FILE:berth>;BUILD_DIR=${PROJECT_BINARY_DIR}"
    SKIP_RETURN_CODE 77
    TIMEOUT 300)
endforeach()
