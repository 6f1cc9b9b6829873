# Compiler options shared by every target: fatal warnings, sanitizers, ccache.

set(BERTH_SANITIZE "" CACHE STRING
    "Comma-separated sanitizers to build with, e.g. address,undefined")

find_program(CCACHE_PROGRAM ccache)
if(CCACHE_PROGRAM)
  set(CMAKE_C_COMPILER_LAUNCHER ${CCACHE_PROGRAM})
  set(CMAKE_CXX_COMPILER_LAUNCHER ${CCACHE_PROGRAM})
endif()

# Warnings apply to our code only (generated protobuf code gets its own, laxer set).
add_library(berth_warnings INTERFACE)
target_compile_options(berth_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Werror -Wshadow -Wnon-virtual-dtor -Wold-style-cast
  -Wcast-align -Wunused -Woverloaded-virtual -Wdouble-promotion
  -Wformat=2 -Wimplicit-fallthrough -Wno-missing-field-initializers)

add_compile_options(-fno-omit-frame-pointer -D_GNU_SOURCE)

if(BERTH_SANITIZE)
  set(_san "-fsanitize=${BERTH_SANITIZE}")
  add_compile_options(${_san} -fno-sanitize-recover=all)
  # GCC 12 reports false -Wmaybe-uninitialized in libstdc++ (std::regex,
  # std::function) under the sanitizers' instrumentation; after -Wall, so it sticks.
  target_compile_options(berth_warnings INTERFACE -Wno-maybe-uninitialized)
  add_link_options(${_san})
  message(STATUS "berth: sanitizers ${BERTH_SANITIZE}")
endif()

# berth_target(NAME) applies the project-wide settings to one of our targets.
function(berth_target name)
  target_link_libraries(${name} PRIVATE berth_warnings)
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR})
endfunction()
