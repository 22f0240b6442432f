#include "storeapi/client/series_stream.h"

#include <algorithm>
#include <cstring>
#include <functional>
#include <span>
#include <utility>

#include <fmt/format.h>

#include "engine/util/strings.h"
#include "storeapi/client/grpc_util.h"

namespace paodin::storeapi {
namespace {

using Clock = std::chrono::steady_clock;

// How often a waiting consumer re-checks the query's cancellation flag.
constexpr std::chrono::milliseconds kCancelPollInterval{50};

}  // namespace

void StoreChunk::SetOwnedCopy(std::string_view bytes) {
  std::shared_ptr<char[]> buf(new char[std::max<size_t>(bytes.size(), 1)]);
  std::memcpy(buf.get(), bytes.data(), bytes.size());
  data = std::string_view(buf.get(), bytes.size());
  owner = std::move(buf);
}

size_t SeriesBytes(const StoreSeries& series) {
  size_t bytes = sizeof(StoreSeries) + series.labels.bytes().size();
  for (const StoreChunk& c : series.chunks)
    bytes += sizeof(StoreChunk) + c.data.size();
  return bytes;
}

std::unique_ptr<SeriesStream> SeriesStream::Open(std::shared_ptr<StoreClient> client,
                                                 const thanos::SeriesRequest& request,
                                                 SeriesStreamOptions options) {
  std::unique_ptr<SeriesStream> stream(new SeriesStream(std::move(client), std::move(options)));
  stream->request_ = request;
  if (stream->options_.deadline != Clock::time_point::max()) {
    // A little slack so the consumer's own deadline check fires first with a clear message.
    const auto remaining = stream->options_.deadline - Clock::now() + std::chrono::seconds(1);
    stream->context_.set_deadline(std::chrono::system_clock::now() +
                                  std::chrono::duration_cast<std::chrono::milliseconds>(remaining));
  }
  if (!stream->options_.tenant.empty()) {
    stream->context_.AddMetadata(std::string(kTenantMetadataKey), stream->options_.tenant);
  }
  stream->read_in_flight_ = true;
  stream->last_activity_ = Clock::now();
  stream->started_ = stream->last_activity_;
  StoreClient& store = *stream->client_;
  grpc::internal::ClientCallbackReaderFactory<SeriesFrame>::Create(
      &store.channel(), store.series_method(), &stream->context_, &stream->request_, stream.get());
  // The hold keeps gRPC from finishing the call (and freeing its reader) while reading is
  // paused and we may still start a read; it is released once no read will be started.
  stream->AddHold();
  stream->StartRead(&stream->frame_);
  stream->StartCall();
  return stream;
}

SeriesStream::SeriesStream(std::shared_ptr<StoreClient> client, SeriesStreamOptions options)
    : client_(std::move(client)), options_(std::move(options)) {}

SeriesStream::~SeriesStream() {
  std::unique_lock<std::mutex> lock(mu_);
  if (!done_) {
    lock.unlock();
    context_.TryCancel();
    lock.lock();
    // A paused stream has no read in flight: start one (the hold keeps the reader alive) and
    // let it fail on the cancelled call, which releases the hold.
    closing_ = true;
    const bool start = !read_in_flight_ && !read_failed_;
    if (start)
      read_in_flight_ = true;
    lock.unlock();
    if (start)
      StartRead(&frame_);
    lock.lock();
    cv_.wait(lock, [this] { return done_; });
  }
}

absl::Status SeriesStream::AddSeries(size_t index, std::vector<StoreSeries>* ready) {
  const SeriesResponseView& view = frame_.view();
  // Labels: usually already sorted by name; copy them straight into one buffer.
  std::vector<engine::Label>& labels = label_scratch_;
  labels.clear();
  bool sorted = true;
  for (const WireLabel& l : view.labels(index)) {
    if (l.value.empty())
      continue;
    if (!options_.strip_labels.empty() &&
        std::binary_search(options_.strip_labels.begin(), options_.strip_labels.end(), l.name,
                           std::less<>())) {
      continue;
    }
    if (!labels.empty() && !(labels.back().name < l.name))
      sorted = false;
    labels.push_back({l.name, l.value});
  }
  StoreSeries series;
  if (sorted) {
    series.labels = engine::Labels::FromSortedUnchecked(labels);
  } else {
    std::vector<std::pair<std::string, std::string>> pairs;
    for (const engine::Label& l : labels)
      pairs.emplace_back(l.name, l.value);
    auto built = engine::Labels::FromPairs(std::move(pairs));
    if (!built.ok()) {
      return absl::InvalidArgumentError(fmt::format("receive series from {}: invalid labels: {}",
                                                    options_.store_name,
                                                    ToStd(built.status().message())));
    }
    series.labels = *std::move(built);
  }
  const std::span<const WireChunk> wire_chunks = view.chunks(index);
  series.chunks.reserve(wire_chunks.size());
  auto kept = [&](const WireChunk& c) {
    return c.has_raw && (!options_.xor_only || c.raw_type == thanos::Chunk::XOR);
  };
  // The chunks point into the frame, which they keep alive: no copy.
  const std::shared_ptr<const char[]>& owner = frame_.owner();
  for (const WireChunk& c : wire_chunks) {
    if (!kept(c)) {
      ++dropped_chunks_;
      continue;
    }
    StoreChunk chunk;
    chunk.min_time = c.min_time;
    chunk.max_time = c.max_time;
    chunk.data = c.raw_data;
    chunk.owner = owner;
    chunk.store_index = options_.store_index;
    series.chunks.push_back(std::move(chunk));
  }

  if (has_pending_ && pending_.labels == series.labels) {
    // A continuation frame of the same series.
    for (StoreChunk& c : series.chunks)
      pending_.chunks.push_back(std::move(c));
    return absl::OkStatus();
  }
  if (has_pending_) {
    if (options_.strip_labels.empty() && engine::Compare(series.labels, pending_.labels) < 0) {
      return absl::InvalidArgumentError(
          fmt::format("receive series from {}: series out of order: {} after {}",
                      options_.store_name, series.labels.ToString(), pending_.labels.ToString()));
    }
    ready->push_back(std::move(pending_));
  }
  pending_ = std::move(series);
  has_pending_ = true;
  return absl::OkStatus();
}

absl::Status SeriesStream::ConvertResponse(std::vector<StoreSeries>* ready,
                                           std::vector<std::string>* warns) {
  if (!frame_.status().ok()) {
    return absl::InvalidArgumentError(fmt::format("receive series from {}: {}", options_.store_name,
                                                  ToStd(frame_.status().message())));
  }
  const SeriesResponseView& view = frame_.view();
  switch (view.kind()) {
    case FrameKind::kSeries:
    case FrameKind::kBatch:
      for (size_t i = 0; i < view.series_count(); ++i) {
        if (absl::Status st = AddSeries(i, ready); !st.ok())
          return st;
      }
      return absl::OkStatus();
    case FrameKind::kWarning:
      warns->emplace_back(view.warning());
      return absl::OkStatus();
    case FrameKind::kHints:
    case FrameKind::kNone:
      return absl::OkStatus();
  }
  return absl::OkStatus();
}

void SeriesStream::OnReadDone(bool ok) {
  if (!ok) {
    bool release = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      read_in_flight_ = false;
      read_failed_ = true;
      release = !hold_released_;
      hold_released_ = true;
      if (has_pending_) {
        buffered_bytes_ += SeriesBytes(pending_);
        queue_.push_back(std::move(pending_));
        has_pending_ = false;
      }
      if (dropped_chunks_ > 0) {
        warnings_.push_back(
            fmt::format("dropped {} chunks from {}: only raw XOR chunks are supported",
                        dropped_chunks_, options_.store_name));
      }
      cv_.notify_all();
    }
    if (release)
      RemoveHold();
    return;
  }
  bool closing = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    closing = closing_;
  }
  if (closing) {
    // Being destroyed: drain until the cancelled call's reads fail.
    StartRead(&frame_);
    return;
  }
  const int64_t frame_bytes = static_cast<int64_t>(frame_.wire_bytes());
  std::vector<StoreSeries> ready;
  std::vector<std::string> warns;
  absl::Status status = ConvertResponse(&ready, &warns);
  frame_.Release();
  bool issue_read = false;
  bool cancel = false;
  bool release = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++frames_received_;
    bytes_received_ += frame_bytes;
    for (StoreSeries& s : ready) {
      buffered_bytes_ += SeriesBytes(s);
      queue_.push_back(std::move(s));
    }
    for (std::string& w : warns)
      warnings_.push_back(std::move(w));
    last_activity_ = Clock::now();
    if (!status.ok()) {
      if (has_pending_) {
        queue_.push_back(std::move(pending_));
        has_pending_ = false;
      }
      local_error_ = std::move(status);
      read_in_flight_ = false;
      read_failed_ = true;
      cancel = true;
      release = !hold_released_;
      hold_released_ = true;
    } else if (!options_.strip_labels.empty() || buffered_bytes_ < options_.max_buffered_bytes) {
      issue_read = true;
    } else {
      read_in_flight_ = false;
      paused_ = true;
    }
    cv_.notify_all();
  }
  if (cancel)
    context_.TryCancel();
  if (release)
    RemoveHold();
  if (issue_read)
    StartRead(&frame_);
}

void SeriesStream::OnDone(const grpc::Status& status) {
  if (options_.observer != nullptr) {
    const std::chrono::duration<double> took = Clock::now() - started_;
    options_.observer->Observe(options_.store_name, "Series", took.count(), status);
  }
  std::lock_guard<std::mutex> lock(mu_);
  grpc_status_ = status;
  done_ = true;
  cv_.notify_all();
}

absl::StatusOr<bool> SeriesStream::Next(StoreSeries* out, const engine::QueryContext& ctx) {
  std::unique_lock<std::mutex> lock(mu_);
  const bool strip = !options_.strip_labels.empty();
  for (;;) {
    if (strip && !sorted_ && done_) {
      // The store could not strip the replica labels: its whole answer is here, re-sort it.
      std::stable_sort(queue_.begin(), queue_.end(),
                       [](const StoreSeries& a, const StoreSeries& b) {
                         return engine::Compare(a.labels, b.labels) < 0;
                       });
      sorted_ = true;
    }
    if ((!strip || sorted_) && !queue_.empty()) {
      *out = std::move(queue_.front());
      queue_.pop_front();
      buffered_bytes_ -= std::min(buffered_bytes_, SeriesBytes(*out));
      bool resume = false;
      if (paused_ && buffered_bytes_ <= options_.max_buffered_bytes / 2) {
        paused_ = false;
        read_in_flight_ = true;
        last_activity_ = Clock::now();
        resume = true;
      }
      lock.unlock();
      if (resume)
        StartRead(&frame_);
      return true;
    }
    if (done_)
      return false;

    if (absl::Status st = ctx.Done(); !st.ok())
      return st;
    const Clock::time_point now = Clock::now();
    if (now >= options_.deadline) {
      return absl::DeadlineExceededError(
          fmt::format("query timed out while waiting for series from {}", options_.store_name));
    }
    Clock::time_point wake = std::min(options_.deadline, now + kCancelPollInterval);
    if (options_.response_timeout.count() > 0 && !paused_ && !timed_out_) {
      const Clock::time_point silent_until = last_activity_ + options_.response_timeout;
      if (now >= silent_until) {
        timed_out_ = true;
        lock.unlock();
        context_.TryCancel();
        lock.lock();
        continue;
      }
      wake = std::min(wake, silent_until);
    }
    cv_.wait_until(lock, wake);
  }
}

absl::Status SeriesStream::FinalErrorLocked() const {
  if (timed_out_) {
    return absl::UnavailableError(fmt::format("failed to receive any data in {} from {}",
                                              FormatMillis(options_.response_timeout.count()),
                                              options_.store_name));
  }
  if (!local_error_.ok())
    return local_error_;
  if (!done_ || grpc_status_.ok())
    return absl::OkStatus();
  const bool never_connected =
      frames_received_ == 0 && grpc_status_.error_code() == grpc::StatusCode::UNAVAILABLE;
  return absl::UnavailableError(
      fmt::format("{} {}: {}", never_connected ? "fetch series for" : "receive series from",
                  options_.store_name, GrpcStatusText(grpc_status_)));
}

absl::Status SeriesStream::store_error() const {
  std::lock_guard<std::mutex> lock(mu_);
  return FinalErrorLocked();
}

std::vector<std::string> SeriesStream::TakeWarnings() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  out.swap(warnings_);
  return out;
}

int64_t SeriesStream::bytes_received() const {
  std::lock_guard<std::mutex> lock(mu_);
  return bytes_received_;
}

int64_t SeriesStream::frames_received() const {
  std::lock_guard<std::mutex> lock(mu_);
  return frames_received_;
}

}  // namespace paodin::storeapi
