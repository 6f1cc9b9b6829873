# Turns a file into a C++ source holding its bytes, so a library carries the file
# without looking anything up at run time.
# cmake -DINPUT=file -DOUTPUT=out.cpp -DNAMESPACE=ns -DSYMBOL=kName -P embed_file.cmake
# defines `extern const unsigned char kNameData[]` and `extern const std::size_t kNameSize`.
file(READ "${INPUT}" hex HEX)
string(LENGTH "${hex}" hex_length)
math(EXPR size "${hex_length} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
# 16 bytes a line keeps the generated file readable in a debugger.
string(REGEX REPLACE "((0x[0-9a-f][0-9a-f],){16})" "\\1\n    " bytes "${bytes}")
get_filename_component(input_name "${INPUT}" NAME)
file(WRITE "${OUTPUT}.tmp"
"// Generated from ${input_name} by embed_file.cmake; do not edit.
#include <cstddef>

namespace ${NAMESPACE} {
extern const unsigned char ${SYMBOL}Data[];
extern const std::size_t ${SYMBOL}Size;
const unsigned char ${SYMBOL}Data[] = {
    ${bytes}0x00};
const std::size_t ${SYMBOL}Size = ${size};
}  // namespace ${NAMESPACE}
")
file(RENAME "${OUTPUT}.tmp" "${OUTPUT}")
