# e2e tests of berthd: the whole stack (berth-runtimed + berthd) in temp roots,
# pulling from Debian's docker-registry on 127.0.0.1.

# Debian's python3-docker SDK, raw HTTP with bad requests, and a berthd killed
# with SIGKILL while a container writes.
add_test(NAME "e2e: berthd serves the python3-docker SDK, bad requests and a kill -9"
  COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/engine_api_test.py ${PROJECT_BINARY_DIR})
set_tests_properties("e2e: berthd serves the python3-docker SDK, bad requests and a kill -9"
  PROPERTIES TIMEOUT 300)

# berthd pulls from a registry behind basic auth with the X-Registry-Auth the
# client sends (the python3-docker SDK's auth_config).
add_test(NAME "e2e: berthd pulls with the client's registry credentials"
  COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/engine_registry_auth_test.py
          ${PROJECT_BINARY_DIR})
set_tests_properties("e2e: berthd pulls with the client's registry credentials"
  PROPERTIES TIMEOUT 300)
