// KV cache slots. Layout per slot: layer after layer, keys then values, each
// [kv_head][position][head_dim] as KvLayerView describes, so the rows of one head at successive
// positions are contiguous and a copy of a range of positions is one memcpy per head.
#include "runtime/kv_cache.h"

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>

namespace phirun {

namespace {

uint64_t physical_memory_bytes() {
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page_size = sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page_size <= 0) return UINT64_MAX;  // unknown: do not refuse
  return uint64_t(pages) * uint64_t(page_size);
}

std::string gib(uint64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f GiB", double(bytes) / double(1ull << 30));
  return text;
}

}  // namespace

uint64_t KvCache::bytes_per_position(const ModelConfig& config, TensorType type) {
  const uint64_t element_bytes = type == TensorType::F16 ? 2 : 4;
  return 2 * uint64_t(config.n_layers) * uint64_t(config.n_kv_heads) * uint64_t(config.head_dim) * element_bytes;
}

KvCache::KvCache(const ModelConfig& config, TensorType type, int64_t n_slots, int64_t capacity)
    : n_slots_(n_slots), capacity_(capacity), window_(config.sliding_window) {
  if (type != TensorType::F16 && type != TensorType::F32)
    throw std::runtime_error("the KV cache type must be F16 or F32");
  if (n_slots < 1 || capacity < 1) throw std::runtime_error("a KV cache needs at least one sequence and one position");
  element_bytes_ = type == TensorType::F16 ? 2 : 4;
  const uint64_t per_position = bytes_per_position(config, type);
  // Checked in floating point first: a product of huge counts must not wrap around.
  const double wanted = double(n_slots) * double(capacity) * double(per_position);
  const uint64_t available = physical_memory_bytes();
  if (wanted > double(available))
    throw std::runtime_error("the KV cache for " + std::to_string(n_slots) + " sequences of up to " +
                             std::to_string(capacity) + " tokens needs " + gib(uint64_t(wanted)) +
                             ", more than this machine's " + gib(available) +
                             " of memory: lower max_length, batch_size or num_beams");
  bytes_ = uint64_t(n_slots) * uint64_t(capacity) * per_position;
  storage_.reset(new uint8_t[bytes_]);

  const uint64_t half_layer_bytes =
      uint64_t(config.n_kv_heads) * uint64_t(capacity) * uint64_t(config.head_dim) * element_bytes_;
  views_.resize(size_t(n_slots));
  row_ids_.resize(size_t(n_slots));
  for (int64_t s = 0; s < n_slots; ++s) {
    uint8_t* slot_base = storage_.get() + uint64_t(s) * uint64_t(capacity) * per_position;
    for (int64_t l = 0; l < config.n_layers; ++l) {
      uint8_t* base = slot_base + 2 * half_layer_bytes * uint64_t(l);
      views_[size_t(s)].push_back({type, config.n_kv_heads, capacity, config.head_dim, base, base + half_layer_bytes});
    }
    row_ids_[size_t(s)].reserve(size_t(capacity));
  }
}

void KvCache::rows_written(int64_t slot, int64_t end) {
  std::vector<uint64_t>& ids = row_ids_[size_t(slot)];
  if (window_ == 0 && end > capacity_) throw std::logic_error("KvCache: rows written past the capacity");
  while (int64_t(ids.size()) < end) ids.push_back(next_row_id_++);
}

void KvCache::truncate(int64_t slot, int64_t length) {
  std::vector<uint64_t>& ids = row_ids_[size_t(slot)];
  if (length >= int64_t(ids.size())) return;
  // The next position, `length`, attends back to length - window + 1: still in the ring?
  const int64_t oldest_needed = std::max<int64_t>(0, length - window_ + 1);
  if (window_ > 0 && length > 0 && oldest_needed < int64_t(ids.size()) - capacity_)
    throw std::runtime_error("cannot rewind a sliding-window KV cache from " + std::to_string(ids.size()) + " to " +
                             std::to_string(length) + " positions: its ring of " + std::to_string(capacity_) +
                             " rows no longer holds the keys position " + std::to_string(length) + " attends");
  ids.resize(size_t(length));
}

void KvCache::copy_rows(int64_t from, int64_t to, int64_t begin, int64_t end) {
  // Position p sits in row p % capacity: the range is one run of rows, or two around the ring.
  const int64_t first = begin % capacity_, n = end - begin;
  const int64_t head = std::min(n, capacity_ - first);
  copy_row_run(from, to, first, head);
  if (head < n) copy_row_run(from, to, 0, n - head);
  rows_copied_ += uint64_t(n);
}

void KvCache::copy_row_run(int64_t from, int64_t to, int64_t begin, int64_t n_rows) {
  const uint64_t row_bytes = uint64_t(views_[0][0].head_dim) * element_bytes_;
  const uint64_t bytes = uint64_t(n_rows) * row_bytes;
  for (size_t l = 0; l < views_[size_t(from)].size(); ++l) {
    const KvLayerView& source = views_[size_t(from)][l];
    const KvLayerView& target = views_[size_t(to)][l];
    for (int64_t h = 0; h < source.n_kv_heads; ++h) {
      const uint64_t offset = (uint64_t(h) * uint64_t(capacity_) + uint64_t(begin)) * row_bytes;
      std::memcpy(static_cast<uint8_t*>(target.keys) + offset, static_cast<const uint8_t*>(source.keys) + offset,
                  bytes);
      std::memcpy(static_cast<uint8_t*>(target.values) + offset, static_cast<const uint8_t*>(source.values) + offset,
                  bytes);
    }
  }
}

void KvCache::copy_sequence(int64_t from, int64_t to, int64_t length) {
  if (from == to) {
    truncate(to, length);
    return;
  }
  const std::vector<uint64_t>& source = row_ids_[size_t(from)];
  std::vector<uint64_t>& target = row_ids_[size_t(to)];
  if (length > int64_t(source.size())) throw std::logic_error("KvCache: copying rows the source does not hold");
  // Rows written by the same pass hold the same values: skip the common prefix. A ring holds
  // only the last `capacity` positions of each slot: older ones need no copy (they are never
  // read again), and the target's own rows older than its last `capacity` were overwritten.
  const int64_t oldest_kept = std::max<int64_t>(0, length - capacity_);
  int64_t same = oldest_kept;
  const int64_t shared_limit = std::min<int64_t>(length, int64_t(target.size()));
  if (int64_t(target.size()) - capacity_ <= oldest_kept)
    while (same < shared_limit && source[size_t(same)] == target[size_t(same)]) ++same;
  if (same < length) copy_rows(from, to, same, length);
  target.assign(source.begin(), source.begin() + length);
}

}  // namespace phirun
