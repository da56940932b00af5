// split_bench: measures the streaming payload splitter (mapping/payload_stream.h) on payload
// files: items, bytes and GB/s, without parsing the items.
//
// Usage: split_bench [--chunk BYTES] [--batch N] [--kernel auto|scalar|sse2|avx2]
//                    [--read-only] FILE...
//   --read-only  only read the files in chunks (the I/O floor), no splitting.
//
// Example: build-stream/bin/gen_github_prs --count 100000 > prs.jsonl
//          /usr/bin/time -f "%e s %M KB" build-stream/bin/split_bench prs.jsonl

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "mapping/payload_stream.h"

namespace {

using portolan::Status;
namespace mapping = portolan::mapping;

[[noreturn]] void Usage(int code) {
  std::fprintf(code ? stderr : stdout,
               "Usage: split_bench [--chunk BYTES] [--batch N] [--kernel auto|scalar|sse2|avx2] "
               "[--read-only] FILE...\n");
  std::exit(code);
}

int Main(int argc, char** argv) {
  mapping::StreamOptions options;
  std::vector<std::string> files;
  bool read_only = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto need = [&]() -> std::string {
      if (i + 1 >= argc) Usage(1);
      return argv[++i];
    };
    if (a == "--help" || a == "-h") {
      Usage(0);
    } else if (a == "--chunk") {
      options.chunk_bytes = std::strtoull(need().c_str(), nullptr, 10);
    } else if (a == "--batch") {
      options.batch_size = std::strtoull(need().c_str(), nullptr, 10);
    } else if (a == "--read-only") {
      read_only = true;
    } else if (a == "--kernel") {
      const std::string k = need();
      using mapping::internal::ScanKernel;
      ScanKernel kernel = k == "scalar" ? ScanKernel::kScalar
                          : k == "sse2" ? ScanKernel::kSse2
                          : k == "avx2" ? ScanKernel::kAvx2
                                        : ScanKernel::kAuto;
      if (!mapping::internal::ScanKernelAvailable(kernel)) {
        std::fprintf(stderr, "split_bench: kernel %s not available\n", k.c_str());
        return 1;
      }
      mapping::internal::SetScanKernelForTesting(kernel);
    } else if (!a.empty() && a[0] == '-' && a != "-") {
      Usage(1);
    } else {
      files.push_back(a);
    }
  }
  if (files.empty()) Usage(1);

  const auto start = std::chrono::steady_clock::now();
  size_t items = 0, batches = 0, item_bytes = 0, total_bytes = 0;
  if (read_only) {
    std::string buffer(options.chunk_bytes, '\0');
    for (const auto& f : files) {
      const int fd = f == "-" ? 0 : ::open(f.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) {
        std::fprintf(stderr, "split_bench: cannot open %s\n", f.c_str());
        return 1;
      }
      ssize_t n;
      while ((n = ::read(fd, buffer.data(), buffer.size())) > 0) total_bytes += n;
      if (fd != 0) ::close(fd);
    }
  } else {
    Status s = mapping::StreamPayloads(files, options, [&](mapping::ItemBatch batch) {
      ++batches;
      items += batch.items.size();
      for (const auto& item : batch.items) item_bytes += item.text.size();
      return Status::Ok();
    });
    if (!s.ok()) {
      std::fprintf(stderr, "split_bench: %s\n", s.message().c_str());
      return 1;
    }
    for (const auto& f : files) {
      struct ::stat st;
      if (f != "-" && ::stat(f.c_str(), &st) == 0) total_bytes += st.st_size;
    }
  }
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%zu items in %zu batches, %zu item bytes, %zu file bytes, %.3f s, %.2f GB/s\n",
              items, batches, item_bytes, total_bytes, secs, total_bytes / secs / 1e9);
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return Main(argc, argv); }
