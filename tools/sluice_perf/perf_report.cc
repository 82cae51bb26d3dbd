#include "perf_report.h"

#include <cstdio>

namespace sluice::tools {
namespace {

std::string fixed(double value, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", decimals, value);
  return buf;
}

std::string ms(uint64_t micros) { return fixed(static_cast<double>(micros) / 1000.0, 3); }

}  // namespace

std::string format_text(const PerfReport& r) {
  std::string out = r.mode + ": " + std::to_string(r.records) + " records of " + std::to_string(r.record_size) +
                    " bytes in " + fixed(r.seconds, 3) + " s: " + fixed(r.records_per_sec(), 1) + " records/s, " +
                    fixed(r.mb_per_sec(), 2) + " MB/s";
  if (r.errors > 0) out += ", " + std::to_string(r.errors) + " errors";
  out += "\n";
  if (r.latency && r.latency->count() > 0) {
    const auto& h = *r.latency;
    out += "latency ms: p50 " + ms(h.percentile(50)) + ", p99 " + ms(h.percentile(99)) + ", p99.9 " +
           ms(h.percentile(99.9)) + ", max " + ms(h.max()) + "\n";
  }
  return out;
}

std::string format_json(const PerfReport& r) {
  std::string out = "{\"mode\":\"" + r.mode + "\"";
  out += ",\"records\":" + std::to_string(r.records);
  out += ",\"record_size\":" + std::to_string(r.record_size);
  out += ",\"seconds\":" + fixed(r.seconds, 6);
  out += ",\"records_per_sec\":" + fixed(r.records_per_sec(), 1);
  out += ",\"mb_per_sec\":" + fixed(r.mb_per_sec(), 3);
  if (r.latency && r.latency->count() > 0) {
    const auto& h = *r.latency;
    out += ",\"p50\":" + ms(h.percentile(50));
    out += ",\"p99\":" + ms(h.percentile(99));
    out += ",\"p999\":" + ms(h.percentile(99.9));
    out += ",\"max\":" + ms(h.max());
  }
  out += ",\"errors\":" + std::to_string(r.errors);
  out += "}\n";
  return out;
}

}  // namespace sluice::tools
