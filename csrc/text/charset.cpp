// Interval-set algebra and the property sets, built once per process from the generated tables.
#include "text/charset.hpp"

#include <algorithm>
#include <array>
#include <mutex>

namespace ctxengine {
namespace {
#include "text/unicode_props.inc"

CharSet from_ranges(const uint32_t (*ranges)[2], std::size_t begin, std::size_t end) {
  CharSet s;
  for (std::size_t i = begin; i < end; ++i) s.add(ranges[i][0], ranges[i][1]);
  return s;
}

// One interval list per general category, from the two-stage table (built once).
const std::array<CharSet, 30>& category_sets() {
  static const std::array<CharSet, 30> sets = [] {
    std::array<CharSet, 30> out;
    uint32_t start = 0;
    auto current = general_category(0);
    for (uint32_t cp = 1; cp <= CharSet::kMax + 1; ++cp) {
      const auto c = cp <= CharSet::kMax ? general_category(cp) : GeneralCategory::Cn;
      if (cp == CharSet::kMax + 1 || c != current) {
        out[static_cast<int>(current)].add(start, cp - 1);
        start = cp;
        current = c;
      }
    }
    return out;
  }();
  return sets;
}

}  // namespace

CharSet CharSet::range(uint32_t lo, uint32_t hi) {
  CharSet s;
  s.add(lo, hi);
  return s;
}

void CharSet::add(uint32_t lo, uint32_t hi) {
  if (lo > hi) return;
  hi = std::min(hi, kMax);
  // Fast path: appending after the last run (the common order of construction).
  if (runs_.empty() || lo > runs_.back().second + 1) {
    runs_.emplace_back(lo, hi);
    return;
  }
  if (lo >= runs_.back().first) {
    runs_.back().second = std::max(runs_.back().second, hi);
    return;
  }
  std::vector<std::pair<uint32_t, uint32_t>> out;
  out.reserve(runs_.size() + 1);
  bool placed = false;
  for (const auto& r : runs_) {
    if (r.second + 1 < lo) {
      out.push_back(r);
    } else if (hi + 1 < r.first) {
      if (!placed) out.emplace_back(lo, hi), placed = true;
      out.push_back(r);
    } else {
      lo = std::min(lo, r.first);
      hi = std::max(hi, r.second);
    }
  }
  if (!placed) out.emplace_back(lo, hi);
  std::sort(out.begin(), out.end());
  runs_ = std::move(out);
}

void CharSet::add(const CharSet& other) {
  // one linear merge of the two sorted lists
  std::vector<std::pair<uint32_t, uint32_t>> out;
  out.reserve(runs_.size() + other.runs_.size());
  std::size_t i = 0, j = 0;
  while (i < runs_.size() || j < other.runs_.size()) {
    const bool mine =
        j == other.runs_.size() || (i < runs_.size() && runs_[i].first <= other.runs_[j].first);
    const auto r = mine ? runs_[i++] : other.runs_[j++];
    if (!out.empty() && r.first <= out.back().second + 1) {
      out.back().second = std::max(out.back().second, r.second);
    } else {
      out.push_back(r);
    }
  }
  runs_ = std::move(out);
}

CharSet CharSet::complement() const {
  CharSet out;
  uint32_t next = 0;
  for (const auto& r : runs_) {
    if (r.first > next) out.runs_.emplace_back(next, r.first - 1);
    next = r.second + 1;
  }
  if (next <= kMax) out.runs_.emplace_back(next, kMax);
  return out;
}

CharSet CharSet::intersect(const CharSet& other) const {
  CharSet out;
  std::size_t i = 0, j = 0;
  while (i < runs_.size() && j < other.runs_.size()) {
    const uint32_t lo = std::max(runs_[i].first, other.runs_[j].first);
    const uint32_t hi = std::min(runs_[i].second, other.runs_[j].second);
    if (lo <= hi) out.runs_.emplace_back(lo, hi);
    if (runs_[i].second < other.runs_[j].second) {
      ++i;
    } else {
      ++j;
    }
  }
  return out;
}

bool CharSet::contains(uint32_t cp) const noexcept {
  auto it = std::upper_bound(runs_.begin(), runs_.end(), cp,
                             [](uint32_t v, const auto& r) { return v < r.first; });
  return it != runs_.begin() && std::prev(it)->second >= cp;
}

std::vector<uint32_t> case_variants(uint32_t cp) {
  std::vector<uint32_t> out{cp};
  const auto* begin = kCaseOrbit;
  const auto* end = kCaseOrbit + sizeof(kCaseOrbit) / sizeof(kCaseOrbit[0]);
  uint32_t at = cp;
  for (int guard = 0; guard < 8; ++guard) {
    const auto* it = std::lower_bound(
        begin, end, at, [](const uint32_t (&pair)[2], uint32_t v) { return pair[0] < v; });
    if (it == end || (*it)[0] != at || (*it)[1] == cp) break;
    at = (*it)[1];
    out.push_back(at);
  }
  return out;
}

CharSet CharSet::case_closure() const {
  // Only members of a case orbit gain anything: walk the orbit table (each step adds the next
  // member of an orbit) until nothing changes; orbits have at most four members.
  CharSet out = *this;
  for (bool changed = true; changed;) {
    CharSet more;  // kCaseOrbit is sorted by its first column, so `more` grows at its end
    std::vector<uint32_t> found;
    for (const auto& pair : kCaseOrbit) {
      if (out.contains(pair[0]) && !out.contains(pair[1])) found.push_back(pair[1]);
    }
    changed = !found.empty();
    std::sort(found.begin(), found.end());
    for (uint32_t cp : found) more.add(cp, cp);
    out.add(more);
  }
  return out;
}

CharSet category_set(uint32_t mask) {
  CharSet out;
  const auto& sets = category_sets();
  for (int c = 0; c < 30; ++c) {
    if (mask & (1u << c)) out.add(sets[c]);
  }
  return out;
}

CharSet white_space_set() {
  CharSet s;
  for (uint32_t cp : {0x85u, 0xA0u, 0x1680u, 0x2028u, 0x2029u, 0x202Fu, 0x205Fu, 0x3000u})
    s.add(cp, cp);
  s.add(0x09, 0x0D);
  s.add(0x20, 0x20);
  s.add(0x2000, 0x200A);
  return s;
}

CharSet alphabetic_set() {
  return from_ranges(kAlphabeticRanges, 0,
                     sizeof(kAlphabeticRanges) / sizeof(kAlphabeticRanges[0]));
}

CharSet join_control_set() {
  return CharSet::range(0x200C, 0x200D);
}

CharSet script_set(std::string_view name, bool* ok) {
  const std::size_t n = sizeof(kScriptNames) / sizeof(kScriptNames[0]);
  for (std::size_t i = 0; i < n; ++i) {
    if (name == kScriptNames[i]) {
      *ok = true;
      return from_ranges(kScriptRanges, kScriptOffsets[i], kScriptOffsets[i + 1]);
    }
  }
  *ok = false;
  return CharSet();
}

bool is_multi_char_folding(std::u32string_view folded) {
  for (const auto& row : kMultiFoldings) {
    std::size_t len = row[2] != 0 ? 3 : 2;
    if (folded.size() == len && folded[0] == row[0] && folded[1] == row[1] &&
        (len == 2 || folded[2] == row[2]))
      return true;
  }
  return false;
}

}  // namespace ctxengine
