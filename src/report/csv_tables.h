// Private: the report's tables as CSV files, for spreadsheets and plots.
#pragma once

#include <string>
#include <vector>

#include "report_data.h"

namespace muroan::report {

// Budgets of tables/found_sizes.csv.
const std::vector<double>& csv_budgets();
// Modality names of the runs, in first-seen order (columns of the share of points).
std::vector<std::string> modality_names(const ReportData& data);

// Writes DIR/tables/overview.csv (one row per fusion, most vulnerable first),
// runs.csv (one row per fusion x method), found_sizes.csv (fusion, method,
// budget, asr; method "strongest" is the pointwise maximum over the fusion's
// methods) and timings.csv (step, fusion, method, seconds, reused).
void write_csv_tables(const ReportData& data, const std::string& dir);

}  // namespace muroan::report
