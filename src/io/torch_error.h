// LibTorch reports errors as multi-line messages (a C++ backtrace, or the
// TorchScript interpreter's traceback); users get one line.
#pragma once

#include <exception>
#include <string>

namespace muroan::io {

// The informative line of an exception thrown by LibTorch or a TorchScript
// module: the first line, or, for an error raised inside the interpreter, the
// last line (e.g. "RuntimeError: index out of range in self").
std::string torch_error_line(const std::exception& e);

}  // namespace muroan::io
