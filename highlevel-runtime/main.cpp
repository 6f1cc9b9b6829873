#include "highlevel-runtime/runtimed.h"

int main(int argc, char** argv) { return berth::runtimed::Main(argc, argv); }
