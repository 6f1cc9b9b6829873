#include "lowlevel-runtime/cli.h"

int main(int argc, char** argv) { return berth::oci::Main(argc, argv); }
