// Private to muroan_data and muroan_oracle: the built-in `triage` task -- a
// synthetic health record with three inputs -- and the rules that label it,
// read by the generator (clean records) and by the task's oracle (decoupled
// ones) alike, so that the two can never disagree.
//
//   vitals  tabular, 12 vital signs and lab values with realistic ranges and
//           correlations (heart rate rises as pressure falls, lactate with shock)
//   note    tokens, a short clinical note: chest pain reported, denied
//           ("denies chest pain", "no chest pain") or not mentioned, and other
//           symptoms
//   ecg     a 1-lead ECG, 3 s at 250 Hz (the audio kind: a mono series; a point
//           is a 100 ms frame), beating at the record's heart rate, with ST
//           elevation or without
//
// The rules (classes routine = 0, urgent = 1):
//   shock (systolic < 100 mmHg and lactate > 2 mmol/L)               -> urgent
//   else chest pain reported in the note and ST elevation on the ECG  -> urgent
//   else                                                              -> routine
// No single input decides: shock is 15% of the records, and chest pain and ST
// elevation each appear without the other (denied, or a normal ECG).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "generators.h"  // relative: tests include this header by path
#include "muroan/task.h"

namespace muroan {
namespace data {

inline constexpr int64_t kTriageEcgSamples = 750;  // 3 s
inline constexpr int64_t kTriageEcgRate = 250;     // Hz
inline constexpr int64_t kTriageEcgFrame = 25;     // 100 ms per point
inline constexpr int64_t kTriageMaxLen = 12;

// The 12 features, in column order, with their units in the names.
const std::vector<std::string>& triage_features();
inline constexpr size_t kSystolic = 1;  // mmHg
inline constexpr size_t kLactate = 6;   // mmol/L

// What the rules read of one record; the `known` flags say which values a
// decoupling set has removed (false: removed, its value unknown).
struct TriageRecord {
  std::vector<double> vitals;
  std::vector<bool> vital_known;
  std::vector<std::string> words;  // the note as read: removed words are gone
  std::vector<float> ecg;          // the clean strip
  std::vector<bool> frame_known;   // per 100 ms frame
};

struct TriageReading {
  int64_t label = -1;  // 0 routine, 1 urgent, -1 undefined (the record no longer says)
  std::string why;     // the deciding finding, for people ("shock: systolic 86 mmHg, lactate 3.4 mmol/L")
};

// The rules on a record. A removed value is unknown, never read as typical: a
// shock whose lactate is removed is no longer established, a strip with
// fewer than two readable beats shows nothing (each beat needs its R wave and
// its baseline and ST windows intact).
TriageReading read_triage(const TriageRecord& record);

TaskData generate_triage(uint64_t seed, const SplitSizes& sizes);

}  // namespace data
}  // namespace muroan
