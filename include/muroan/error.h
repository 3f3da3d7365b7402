// Typed errors. Anything a user's input can break throws one of these; the
// command-line program catches them, prints `error: <what>` on one line and exits
// non-zero. Messages name the file, line and field where they apply.
#pragma once

#include <stdexcept>
#include <string>

namespace muroan {

// Base class of every error MUROAN reports to the user.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A command-line option or value that is not acceptable.
class UsageError : public Error {
 public:
  using Error::Error;
};

// A file (data, manifest, checkpoint, model) that cannot be read or does not
// follow its contract. `where` is "file", "file:line" or "file:line: field".
class InputError : public Error {
 public:
  InputError(const std::string& where, const std::string& what) : Error(where + ": " + what) {}
};

}  // namespace muroan
