#include "engine/berthd.h"

int main(int argc, char** argv) { return berth::engine::Main(argc, argv); }
