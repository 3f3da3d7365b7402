// Private: escaping and number formats shared by the HTML page and the CSV tables.
#pragma once

#include <string>

namespace muroan::report {

// Escapes & < > " ' for HTML text and attribute values; every string that
// comes from data goes through it.
std::string escape_html(const std::string& text);
// A CSV field: quoted (with "" for ") when it holds a comma, quote or newline.
std::string csv_field(const std::string& text);

// A share as a percentage for people: "97.3%", "100%", "0%".
std::string format_percent(double share);
// A decoupling rate, with the precision small rates need: "0.032%", "1.16%", "12.5%".
std::string format_rate(double rate);
// A plain number with `digits` decimals ("0.9120"); for the CSV files.
std::string format_number(double value, int digits = 6);
// "3.2 s", "4 min 05 s", "1 h 02 min".
std::string format_seconds(double seconds);

}  // namespace muroan::report
