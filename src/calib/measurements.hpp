// Raw GPU measurements as whatif-calib-cuda writes them (measurements.json, format whatif-measurements/1, and
// the validation kernels' kernel-times.json, format whatif-kernel-times/1): read strictly, every problem
// named by file and JSON path.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace whatif::calib {

struct TimeStats {  // seconds over `reps` timed repetitions
  double median = 0, min = 0, max = 0, mean = 0, stdev = 0;
  int reps = 0;
};

struct Record {
  std::string kind, name, unit;  // kind: peak, bandwidth, latency, instruction, launch, transfer, gemm
  nlohmann::json params;         // an object
  TimeStats time;
  double value = 0;
  std::string where;  // "measurements[12]", for messages

  double param(const char* key) const;  // a numeric parameter; throws core::InputError naming the record
};

struct DeviceInfo {
  std::string name, uuid, compute_capability, driver, runtime;
  int sm_count = 0;
  double memory_bytes = 0, l2_bytes = 0;
};

struct Provenance {
  std::string file, tool, date, host;
  DeviceInfo device;
  double sm_clock_hz = 0;         // measured with clock64() over a timed kernel spinning on every SM
  double loaded_sm_clock_hz = 0;  // the same with every SM fully busy (0: not measured)
};

struct Measurements {
  Provenance from;
  std::vector<Record> records;
  // The records of one kind (and name, when given).
  std::vector<const Record*> select(const std::string& kind, const std::string& name = "") const;
};

struct KernelTime {
  std::string name, kind;  // kind: gemm, elementwise, reduction
  nlohmann::json params;
  TimeStats time;
  std::string where;
  double param(const char* key) const;
};

struct KernelTimes {
  Provenance from;
  std::vector<KernelTime> kernels;
};

// Throw core::InputError ("FILE: measurements[3].time_s.median: ...") for anything malformed.
Measurements load_measurements(const std::string& path);
KernelTimes load_kernel_times(const std::string& path);

}  // namespace whatif::calib
