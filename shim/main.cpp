#include "shim/shim_main.h"

int main(int argc, char** argv) { return berth::shim::Main(argc, argv); }
