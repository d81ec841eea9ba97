// Pilgrim's timing files: LOSSLESS start and end times streamed from disk, ZSTD duration frames.
#include <fmt/format.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <optional>

#include "core/diagnostics.hpp"
#include "mpi/pilgrim.hpp"
#include "mpi/pilgrim_internal.hpp"

namespace whatif::mpi {

namespace fs = std::filesystem;
using core::InputError;
using core::Location;
using namespace detail;  // the reader's shared helpers (pilgrim_internal.hpp)

namespace {

// Pilgrim's own LOSSLESS timestamps are raw MPI_Wtime values (seconds since the epoch on most MPIs); a
// first start later than this cannot be "seconds since MPI_Init" for any run we can replay.
constexpr double kRawClockThreshold = 3600.0;
constexpr std::size_t kTimingChunk = 8192;  // doubles per buffered read (64 KiB)
constexpr std::size_t kZstdHeaderMax = 18;  // ZSTD_FRAMEHEADERSIZE_MAX, which zstd.h keeps static-only

}  // namespace

// ---- TimingStream ------------------------------------------------------------------------------------

namespace {

// Buffered reader of consecutive doubles of one file from a given byte offset.
class DoubleReader {
 public:
  DoubleReader() = default;
  DoubleReader(const DoubleReader&) = delete;
  DoubleReader& operator=(const DoubleReader&) = delete;
  ~DoubleReader() {
    if (file_) std::fclose(file_);
  }

  // Opens `path` for `count` doubles from `offset`; the file must hold all of them.
  void open(const fs::path& path, std::uint64_t offset, std::uint64_t count, int rank) {
    name_ = path.string();
    std::error_code ec;
    if (!fs::is_regular_file(path, ec))
      throw error_at(name_, 0, "no such file (the trace's timing mode needs it)");
    const std::uint64_t size = file_size_or(path, 0);
    const std::uint64_t end = offset + count * 8;
    if (size < end)
      throw error_at(name_, size,
                     fmt::format("the file ends here, but rank {} needs its {} values at bytes {}..{} "
                                 "(the grammar says so)",
                                 rank, count, offset, end));
    file_ = std::fopen(name_.c_str(), "rb");
    if (!file_) throw error_at(name_, 0, fmt::format("cannot open: {}", std::strerror(errno)));
    std::setvbuf(file_, nullptr, _IONBF, 0);  // our chunks are the buffer
    if (fseeko(file_, static_cast<off_t>(offset), SEEK_SET) != 0)
      throw error_at(name_, offset, fmt::format("cannot seek: {}", std::strerror(errno)));
    offset_ = offset;
    left_ = count;
    buf_.resize(static_cast<std::size_t>(std::min<std::uint64_t>(count, kTimingChunk)));
  }

  // The next value; the caller counts how many it may take.
  double next() {
    if (pos_ == len_) refill();
    return buf_[pos_++];
  }

  double peek() {
    if (pos_ == len_) refill();
    return buf_[pos_];
  }

 private:
  void refill() {
    const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(left_, buf_.size()));
    const std::size_t got = want ? std::fread(buf_.data(), 8, want, file_) : 0;
    if (got != want || want == 0)
      throw error_at(name_, offset_ + got * 8, "the file ended or could not be read while streaming");
    offset_ += got * 8;
    left_ -= got;
    pos_ = 0;
    len_ = got;
  }

  std::string name_;
  std::FILE* file_ = nullptr;
  std::vector<double> buf_;
  std::size_t pos_ = 0, len_ = 0;
  std::uint64_t offset_ = 0, left_ = 0;
};

// Upstream writes rank r's frame at the inclusive prefix sum of the frame sizes (a leading gap, and a
// frame overwritten by the next when that one is smaller). Frames are found by their magic number: rank
// r's is the first frame after rank r-1's whose header announces exactly its calls x 8 bytes.
std::vector<double> decode_zstd_rank(const fs::path& path, const PilgrimTrace& trace, int rank) {
  const std::string name = path.string();
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) throw error_at(name, 0, "no such file (ZSTD timing mode needs it)");
  std::FILE* f = std::fopen(name.c_str(), "rb");
  if (!f) throw error_at(name, 0, fmt::format("cannot open: {}", std::strerror(errno)));
  struct Closer {
    std::FILE* f;
    ~Closer() { std::fclose(f); }
  } closer{f};
  const std::uint64_t size = file_size_or(path, 0);

  const auto read_at = [&](std::uint64_t offset, std::size_t n, std::vector<std::uint8_t>& out) {
    out.resize(n);
    if (fseeko(f, static_cast<off_t>(offset), SEEK_SET) != 0) return std::size_t{0};
    const std::size_t got = std::fread(out.data(), 1, n, f);
    out.resize(got);
    return got;
  };

  // Walk the magic numbers, assigning frames to ranks 0..rank+1.
  std::vector<std::uint64_t> frame_at;
  std::vector<std::uint8_t> chunk, header;
  constexpr std::size_t kChunk = 1 << 20;
  std::uint64_t offset = 0;
  int next_rank = 0;
  while (offset < size && next_rank <= rank + 1 && next_rank < trace.ranks) {
    const std::size_t got = read_at(offset, kChunk + 3, chunk);
    if (got < 4) break;
    for (std::size_t i = 0; i + 4 <= got && i < kChunk && next_rank <= rank + 1 && next_rank < trace.ranks;
         ++i) {
      std::uint32_t magic = 0;
      std::memcpy(&magic, chunk.data() + i, 4);
      if (magic != kZstdMagic) continue;
      const std::uint64_t at = offset + i;
      read_at(at, kZstdHeaderMax, header);
      const unsigned long long content = ZSTD_getFrameContentSize(header.data(), header.size());
      if (content == ZSTD_CONTENTSIZE_ERROR || content == ZSTD_CONTENTSIZE_UNKNOWN) continue;
      if (content != sat_mul(trace.calls(next_rank), 8)) continue;
      frame_at.push_back(at);
      ++next_rank;
    }
    offset += kChunk;
  }
  if (static_cast<int>(frame_at.size()) <= rank)
    throw error_at(name, size,
                   fmt::format("no zstd frame of {} bytes (rank {}'s {} calls x 8) follows the frames of the "
                               "lower ranks",
                               sat_mul(trace.calls(rank), 8), rank, trace.calls(rank)));
  const std::uint64_t begin = frame_at[static_cast<std::size_t>(rank)];
  const std::uint64_t limit = static_cast<std::size_t>(rank) + 1 < frame_at.size()
                                  ? frame_at[static_cast<std::size_t>(rank) + 1]
                                  : size;
  std::vector<std::uint8_t> frame;
  read_at(begin, static_cast<std::size_t>(limit - begin), frame);
  const std::size_t compressed = ZSTD_findFrameCompressedSize(frame.data(), frame.size());
  if (ZSTD_isError(compressed))
    throw error_at(
        name, begin,
        fmt::format("rank {}'s zstd frame is damaged or cut short by the next frame at byte {} ({}); "
                    "upstream Pilgrim writes frames at overlapping offsets",
                    rank, limit, ZSTD_getErrorName(compressed)));
  const std::uint64_t calls = trace.calls(rank);
  // zstd cannot beat RLE blocks (4 bytes per 128 KiB): a larger claim is a forged header.
  if (calls > (std::uint64_t{compressed} * 32768 + (1 << 17)) / 8)
    throw error_at(
        name, begin,
        fmt::format("rank {}'s zstd frame of {} bytes cannot hold {} durations", rank, compressed, calls));
  std::vector<double> durations(static_cast<std::size_t>(calls));
  const std::size_t n = ZSTD_decompress(durations.data(), durations.size() * 8, frame.data(), compressed);
  if (ZSTD_isError(n) || n != durations.size() * 8)
    throw error_at(name, begin,
                   fmt::format("rank {}'s zstd frame does not decode to its {} durations ({})", rank, calls,
                               ZSTD_isError(n) ? ZSTD_getErrorName(n) : fmt::format("{} bytes", n)));
  return durations;
}

}  // namespace

struct TimingStream::Impl {
  TimingMode mode = TimingMode::aggregated;
  std::uint64_t left = 0;
  double base = 0;
  DoubleReader starts, ends;
  std::vector<double> durations;  // ZSTD: in reverse call order, as stored
  double clock = 0;
};

TimingStream::TimingStream(const PilgrimTrace& trace, int rank) : impl_(std::make_unique<Impl>()) {
  if (rank < 0 || static_cast<std::size_t>(rank) >= trace.grammar_of_rank.size())
    throw std::out_of_range(fmt::format("rank {} is outside 0..{}", rank, trace.grammar_of_rank.size()));
  impl_->mode = trace.timing;
  const std::uint64_t calls = trace.calls(rank);
  if (trace.timing == TimingMode::lossless) {
    std::uint64_t before = 0;
    for (int r = 0; r < rank; ++r)
      before = sat_add(before, trace.calls(r));
    if (sat_mul(sat_add(before, calls), 8) >= kSaturated)
      throw error_at((trace.dir / "intervals.dat").string(), 0,
                     fmt::format("rank {}'s calls lie beyond 2^63 bytes", rank));
    impl_->starts.open(trace.dir / "intervals.dat", before * 8, calls, rank);
    impl_->ends.open(trace.dir / "durations.dat", before * 8, calls, rank);
    impl_->left = calls;
    if (calls > 0) {
      const double first = impl_->starts.peek();
      if (first > kRawClockThreshold) impl_->base = first;
    }
  } else if (trace.timing == TimingMode::zstd) {
    impl_->durations = decode_zstd_rank(trace.dir / "durations.dat", trace, rank);
    impl_->left = impl_->durations.size();
  }
}

TimingStream::~TimingStream() = default;
TimingStream::TimingStream(TimingStream&&) noexcept = default;
TimingStream& TimingStream::operator=(TimingStream&&) noexcept = default;

bool TimingStream::available() const {
  return impl_ && (impl_->mode == TimingMode::lossless || impl_->mode == TimingMode::zstd);
}

bool TimingStream::next(CallTime& time) {
  if (!impl_ || impl_->left == 0) return false;
  --impl_->left;
  if (impl_->mode == TimingMode::lossless) {
    time.start = impl_->starts.next() - impl_->base;
    time.end = impl_->ends.next() - impl_->base;
  } else {
    time.start = impl_->clock;
    time.end = impl_->clock + impl_->durations[static_cast<std::size_t>(impl_->left)];
    impl_->clock = time.end;
  }
  return true;
}

double TimingStream::base() const {
  return impl_ ? impl_->base : 0;
}

}  // namespace whatif::mpi
