// The phirun subcommands. Each parses its own flags and returns the process exit code; errors
// are thrown as std::runtime_error and printed by main as one line.
#pragma once

namespace phirun::cli {

int chat_command(int argc, char** argv);
int generate_command(int argc, char** argv);
int tokenize_command(int argc, char** argv);
int info_command(int argc, char** argv);
int build_command(int argc, char** argv);
int perplexity_command(int argc, char** argv);
int bench_command(int argc, char** argv);
// `phirun bench --precisions ...`: bench_command hands over when the flag is given.
int bench_precisions_command(int argc, char** argv);

}  // namespace phirun::cli
