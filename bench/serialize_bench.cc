// Throughput of weft/serialize.h: bulk numeric data and struct-heavy data.
//
//   bazel run --config=opt //bench:serialize_bench

#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "weft/serialize.h"

namespace {

constexpr size_t kBigBytes = 100 * 1024 * 1024;

std::vector<double> BigVector() {
  std::vector<double> v(kBigBytes / sizeof(double));
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<double>(i) * 0.25;
  return v;
}

struct Record {
  int64_t id = 0;
  double x = 0;
  double y = 0;
  std::string name;
  std::vector<int32_t> tags;

  template <class Archive>
  void serialize(Archive& ar) {
    ar(id, x, y, name, tags);
  }
};

std::vector<Record> Records() {
  std::vector<Record> records(200000);
  for (size_t i = 0; i < records.size(); ++i) {
    Record& r = records[i];
    r.id = static_cast<int64_t>(i);
    r.x = static_cast<double>(i) / 3;
    r.y = -r.x;
    r.name = "record-" + std::to_string(i);
    r.tags = {1, 2, static_cast<int32_t>(i)};
  }
  return records;
}

// Baseline: one memcpy of the same number of bytes into a fresh string.
void BM_MemcpyBaseline(benchmark::State& state) {
  const std::vector<double> v = BigVector();
  for (auto _ : state) {
    std::string out;
    out.resize(v.size() * sizeof(double));
    std::memcpy(out.data(), v.data(), out.size());
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(state.iterations() * kBigBytes);
}
BENCHMARK(BM_MemcpyBaseline)->Unit(benchmark::kMillisecond);

void BM_SerializeVectorDouble(benchmark::State& state) {
  const std::vector<double> v = BigVector();
  for (auto _ : state) {
    std::string out = weft::Serialize(v);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(state.iterations() * kBigBytes);
}
BENCHMARK(BM_SerializeVectorDouble)->Unit(benchmark::kMillisecond);

void BM_DeserializeVectorDouble(benchmark::State& state) {
  const std::string bytes = weft::Serialize(BigVector());
  for (auto _ : state) {
    auto v = weft::Deserialize<std::vector<double>>(bytes);
    if (!v.ok()) state.SkipWithError("deserialize failed");
    benchmark::DoNotOptimize(v->data());
  }
  state.SetBytesProcessed(state.iterations() * kBigBytes);
}
BENCHMARK(BM_DeserializeVectorDouble)->Unit(benchmark::kMillisecond);

void BM_SerializeRecords(benchmark::State& state) {
  const std::vector<Record> records = Records();
  const size_t size = weft::SerializedSize(records);
  for (auto _ : state) {
    std::string out = weft::Serialize(records);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(state.iterations() * size);
  state.SetItemsProcessed(state.iterations() * records.size());
}
BENCHMARK(BM_SerializeRecords)->Unit(benchmark::kMillisecond);

void BM_DeserializeRecords(benchmark::State& state) {
  const std::string bytes = weft::Serialize(Records());
  for (auto _ : state) {
    auto records = weft::Deserialize<std::vector<Record>>(bytes);
    if (!records.ok()) state.SkipWithError("deserialize failed");
    benchmark::DoNotOptimize(records->data());
  }
  state.SetBytesProcessed(state.iterations() * bytes.size());
  state.SetItemsProcessed(state.iterations() * 200000);
}
BENCHMARK(BM_DeserializeRecords)->Unit(benchmark::kMillisecond);

}  // namespace
