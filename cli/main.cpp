#include "cli/cli_app.h"

int main(int argc, char** argv) { return berth::cli::Main(argc, argv); }
